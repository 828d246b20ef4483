// Where a queue's dead messages go (its deadLetter setting): the dead-letter queue's stream, or an exchange
// by the target's routing key, else the key the message was published with, else the queue's name.
import { type DeathReason, headerText, type PublishMessage, Reserved, type StoredMessage } from '../message.js'
import { deadLetterMessage } from '../queue/dead-letter.js'
import type { QueueRef } from '../queue/state.js'

export interface DeadLetterRoutes {
  /**
   * Appends to the named queue's stream as is: a dead-letter queue's own limits do not refuse the dead.
   * `create`: a missing queue is declared with the defaults first (ActiveMQ's DLQs).
   */
  toQueue(queue: string, message: PublishMessage, create: boolean): Promise<unknown>
  toExchange(exchange: string, routingKey: string, message: PublishMessage): Promise<unknown>
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
    await routes.toQueue(target.queue, dead, target.create === true)
    return
  }
  const routingKey = target.routingKey ?? headerText(message.headers, Reserved.routingKey) ?? queue.name
  await routes.toExchange(target.exchange, routingKey, dead)
}
