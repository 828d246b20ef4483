// Where a queue's dead messages go (its deadLetter setting): the dead-letter queue's stream, or an exchange
// by the target's routing key, else the key the message was published with, else the queue's name.
import { type DeathReason, headerText, type PublishMessage, Reserved, type StoredMessage } from '../message.js'
import { deadLetterMessage } from '../queue/dead-letter.js'
import type { QueueRef } from '../queue/state.js'

export interface DeadLetterRoutes {
  /** Appends to the named queue's stream as is: a dead-letter queue's own limits do not refuse the dead. */
  toQueue(queue: string, message: PublishMessage): Promise<unknown>
  toExchange(exchange: string, routingKey: string, message: PublishMessage): Promise<unknown>
  now(): number
}

/** The routes over a broker's own produce and publish (no queue limits on the dead-letter side). */
export function routesOver(broker: {
  produce(stream: string, messages: PublishMessage[]): Promise<unknown>
  queue(name: string): { readonly streamName: string }
  publish(exchange: string, routingKey: string, message: PublishMessage): Promise<unknown>
  now(): number
}): DeadLetterRoutes {
  return {
    toQueue: (name, message) => broker.produce(broker.queue(name).streamName, [message]),
    toExchange: (exchange, routingKey, message) => broker.publish(exchange, routingKey, message),
    now: () => broker.now(),
  }
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
    await routes.toQueue(target.queue, dead)
    return
  }
  const routingKey = target.routingKey ?? headerText(message.headers, Reserved.routingKey) ?? queue.name
  await routes.toExchange(target.exchange, routingKey, dead)
}
