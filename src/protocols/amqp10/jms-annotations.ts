// The destination-type message annotations of the AMQP JMS mapping (as Qpid JMS writes them): `x-opt-jms-dest`
// for `properties.to` and `x-opt-jms-reply-to` for `properties.reply-to`, a byte 0 queue, 1 topic, 2 temporary
// queue, 3 temporary topic. An AMQP 1.0 consumer gets the annotations back as sent (they stay in the kept
// sections); these functions map the reply-to to and from the neutral `reply-to` other protocols read, where a
// topic is `/topic/X` (STOMP's form) and a queue its bare name.
import { type AmqpMap, Typed, type Value } from './codec/values.js'

export const DEST_TYPE = new Typed('symbol', 'x-opt-jms-dest')
export const REPLY_TYPE = new Typed('symbol', 'x-opt-jms-reply-to')

export type DestinationType = 'queue' | 'topic' | 'temporary-queue' | 'temporary-topic'

const TYPES: DestinationType[] = ['queue', 'topic', 'temporary-queue', 'temporary-topic']

/** The destination type an annotation names (a byte, or any integer type), undefined when absent or unknown. */
export function destinationType(annotations: AmqpMap | undefined, key: Typed): DestinationType | undefined {
  const v = annotations?.get(key.value as string)
  if (!(v instanceof Typed) || (typeof v.value !== 'number' && typeof v.value !== 'bigint')) return undefined
  return TYPES[Number(v.value)]
}

/** An AMQP 1.0 reply-to in the neutral form: a topic (by prefix or annotation) as `/topic/X`, others as sent. */
export function neutralReplyTo(address: string, type: DestinationType | undefined): string {
  if (address.startsWith('topic://')) return `/topic/${address.slice('topic://'.length)}`
  if (type === 'topic' || type === 'temporary-topic') return address.startsWith('/') ? address : `/topic/${address}`
  return address
}

/** A neutral reply-to as an AMQP 1.0 address, with the annotation value that says what it is (if it says). */
export function amqpReplyTo(neutral: string): { address: string; type: Value | undefined } {
  const typed = (prefix: string, address: (rest: string) => string, type: number) =>
    neutral.startsWith(prefix)
      ? { address: address(neutral.slice(prefix.length)), type: new Typed('byte', type) }
      : undefined
  return (
    typed('/topic/', (rest) => `topic://${rest}`, 1) ??
    typed('/queue/', (rest) => rest, 0) ??
    typed('/remote-temp-queue/', (rest) => rest, 2) ??
    typed('/remote-temp-topic/', (rest) => `topic://${rest}`, 3) ?? { address: neutral, type: undefined }
  )
}
