// Where a queue's dead messages go (its deadLetter setting): the dead-letter queue's stream, or an exchange
// by the target's routing key, else the key the message was published with, else the queue's name.
import { WharfError } from '../../util/errors.js'
import { type DeathReason, headerText, type PublishMessage, Reserved, type StoredMessage } from '../message.js'
import { deadLetterMessage } from '../queue/dead-letter.js'
import type { QueueRef } from '../queue/state.js'

/** What dead-lettering needs of the broker (the Broker itself). */
export interface DeadLetterRoutes {
  getQueue(name: string): { readonly streamName: string } | undefined
  createQueue(name: string, config: object, options: { ifNotExists: boolean }): Promise<{ readonly streamName: string }>
  /** Appends to a stream as is: a dead-letter queue's own limits do not refuse the dead. */
  produce(stream: string, messages: PublishMessage[]): Promise<unknown>
  publish(exchange: string, routingKey: string, message: PublishMessage): Promise<unknown>
  now(): number
}

export async function deadLetter(
  routes: DeadLetterRoutes,
  queue: QueueRef,
  message: StoredMessage,
  reason: DeathReason,
): Promise<void> {
  const target = queue.config.deadLetter
  if (target === null) return
  const dead = deadLetterMessage(queue.name, message, reason, routes.now())
  if ('queue' in target) {
    // `create`: a missing dead-letter queue is declared with the defaults first (as ActiveMQ makes its DLQs).
    const dlq =
      routes.getQueue(target.queue) ??
      (target.create === true ? await routes.createQueue(target.queue, {}, { ifNotExists: true }) : undefined)
    if (dlq === undefined)
      throw new WharfError('SUBSCRIPTION_NOT_FOUND', `dead-letter queue '${target.queue}' does not exist`)
    await routes.produce(dlq.streamName, [dead])
    return
  }
  const routingKey = target.routingKey ?? headerText(message.headers, Reserved.routingKey) ?? queue.name
  await routes.publish(target.exchange, routingKey, dead)
}
