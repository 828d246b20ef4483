// Destinations as ActiveMQ names them: `/queue/X` is the Wharf queue X (the one AMQP 0-9-1 and SQS see),
// `/topic/X` is the `amq.topic` exchange with routing key X (RabbitMQ's convention, so MQTT `a/b`, AMQP
// `amq.topic a.b` and STOMP `/topic/a.b` meet). On SUBSCRIBE, ActiveMQ's wildcards `*` (one word) and `>`
// (the rest) become AMQP's `*` and `#`.
import { StompFrameError } from './frame.js'

export const TOPIC_EXCHANGE = 'amq.topic'

export type Destination = { kind: 'queue'; name: string } | { kind: 'topic'; key: string }

export function parseDestination(text: string | undefined): Destination {
  if (text === undefined || text === '') throw new StompFrameError('missing destination header')
  if (text.startsWith('/queue/')) {
    const name = text.slice('/queue/'.length)
    if (name === '' || name.includes('\u0000') || Buffer.byteLength(name) > 255)
      throw new StompFrameError(`invalid queue name in '${text}'`)
    return { kind: 'queue', name }
  }
  if (text.startsWith('/topic/')) {
    const key = text.slice('/topic/'.length)
    if (key === '' || Buffer.byteLength(key) > 255) throw new StompFrameError(`invalid topic name in '${text}'`)
    return { kind: 'topic', key }
  }
  if (text.startsWith('/temp-queue/') || text.startsWith('/temp-topic/'))
    throw new StompFrameError(`temporary destinations are not supported: '${text}'`)
  throw new StompFrameError(`unknown destination '${text}': use /queue/<name> or /topic/<name>`)
}

/** A topic subscription's binding key: ActiveMQ's `>` (the rest of the words) is AMQP's `#`. */
export function bindingKeyOf(key: string): string {
  return key
    .split('.')
    .map((word) => (word === '>' ? '#' : word))
    .join('.')
}

export function destinationText(d: Destination): string {
  return d.kind === 'queue' ? `/queue/${d.name}` : `/topic/${d.key}`
}
