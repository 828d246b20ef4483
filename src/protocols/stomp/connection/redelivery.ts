// The redelivery policy of the queues STOMP creates (on first SEND or SUBSCRIBE to `/queue/X`), after
// ActiveMQ's defaults: a message is delivered at most 1 + 6 times (maximumRedeliveries 6; NACK, UNSUBSCRIBE
// and a closed connection each count one), then it goes to the dead-letter queue: one shared `ActiveMQ.DLQ`
// (ActiveMQ's SharedDeadLetterStrategy), or `DLQ.<queue>` per queue (IndividualDeadLetterStrategy), created
// when the first message dies. Dead-letter queues themselves get no policy (a DLQ has no DLQ). Queues made by
// other protocols or the admin API keep their own settings.
import type { QueueConfig } from '../../../broker/config.js'

export type DeadLetterStrategy = 'shared' | 'individual' | 'none'

export interface RedeliveryPolicy {
  /** Redeliveries before dead-lettering; 0 = no limit. */
  redeliveryMax: number
  /** Wait before a returned message is delivered again (0 = at once), times backoff^(redeliveries − 1), at most max. */
  redeliveryDelayMs: number
  redeliveryBackoff: number
  redeliveryDelayMaxMs: number
  deadLetterStrategy: DeadLetterStrategy
  /** The shared dead-letter queue. */
  deadLetterQueue: string
}

/** Prefix of the individual strategy's dead-letter queues (ActiveMQ's queuePrefix). */
export const DEAD_LETTER_PREFIX = 'DLQ.'

export const defaultRedeliveryPolicy: RedeliveryPolicy = {
  redeliveryMax: 6,
  redeliveryDelayMs: 0,
  redeliveryBackoff: 1,
  redeliveryDelayMaxMs: 3600 * 1000,
  deadLetterStrategy: 'shared',
  deadLetterQueue: 'ActiveMQ.DLQ',
}

/** The settings a queue STOMP creates gets. */
export function stompQueueConfig(name: string, policy: RedeliveryPolicy): Partial<QueueConfig> {
  const isDeadLetterQueue = name === policy.deadLetterQueue || name.startsWith(DEAD_LETTER_PREFIX)
  if (isDeadLetterQueue) return {}
  const config: Partial<QueueConfig> = {
    redeliveryDelayMs: policy.redeliveryDelayMs,
    redeliveryBackoff: policy.redeliveryBackoff,
    redeliveryDelayMaxMs: policy.redeliveryDelayMaxMs,
  }
  if (policy.redeliveryMax > 0 && policy.deadLetterStrategy !== 'none') {
    config.maxDeliveries = policy.redeliveryMax + 1
    const target = policy.deadLetterStrategy === 'shared' ? policy.deadLetterQueue : `${DEAD_LETTER_PREFIX}${name}`
    config.deadLetter = { queue: target, create: true }
  } else if (policy.redeliveryMax > 0) config.maxDeliveries = policy.redeliveryMax + 1 // then dropped
  return config
}
