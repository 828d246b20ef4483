// A session's subscriptions as broker bindings on amq.topic: a persistent session's go to its durable
// queue, a clean session's to its in-memory sink, and `$share/group/filter` ones to the group's shared
// queue (created on first member, deleted with the last). The hub's subscribe/unsubscribe and the session
// lifecycle call these.
import type { HubState } from '../hub/state.js'
import { qosOf, topicOf } from '../wire/message.js'
import { exchange, type Session, type Subscription, sharedQueueName } from './session.js'

export async function bind(h: HubState, session: Session, sub: Subscription): Promise<void> {
  if (sub.group !== null) {
    const queue = sharedQueueName(sub.group, sub.topicFilter)
    if (h.broker.getQueue(queue) === undefined) {
      await h.broker.createQueue(queue, { durable: true, ...queueBounds(h) })
    }
    await h.broker.bind({
      source: exchange,
      destination: { kind: 'queue', name: queue },
      key: sub.topicFilter,
      arguments: {},
      syntax: 'mqtt',
      durable: true,
    })
    shareMembers(h, queue).add(session.clientId)
    session.connection?.consumeShared(sub)
    return
  }
  session.trie.add(sub.topicFilter, sub)
  const queued = session.queued(sub)
  if (queued) await ensureQueue(h, session)
  else if (!session.sinkRegistered) {
    session.sinkRegistered = true
    h.broker.registerSink(session.sinkId, (message) => session.connection?.deliverSink(message))
  }
  // A session that outlives its connection receives through its queue (durable binding), else through its sink.
  await h.broker.bind({
    source: exchange,
    destination: queued ? { kind: 'queue', name: session.queueName } : { kind: 'sink', id: session.sinkId },
    key: sub.topicFilter,
    arguments: {},
    syntax: 'mqtt',
    ...(queued ? { durable: session.durableQueue } : {}),
  })
}

export async function unbind(h: HubState, session: Session, sub: Subscription): Promise<void> {
  if (sub.group !== null) {
    await leaveShare(h, session, sub)
    return
  }
  session.trie.remove(sub.topicFilter, sub)
  const destination = session.queued(sub)
    ? { kind: 'queue' as const, name: session.queueName }
    : { kind: 'sink' as const, id: session.sinkId }
  await h.broker.unbind({ source: exchange, destination, key: sub.topicFilter, arguments: {}, syntax: 'mqtt' })
}

export async function leaveShare(
  h: HubState,
  session: Session,
  sub: Subscription & { group: string | null },
): Promise<void> {
  const queue = sharedQueueName(sub.group ?? '', sub.topicFilter)
  session.connection?.stopShared(queue)
  const members = h.shareMembers.get(queue)
  members?.delete(session.clientId)
  if (members === undefined || members.size === 0) {
    h.shareMembers.delete(queue)
    await h.broker.deleteQueue(queue)
  }
}

/** The members of a shared-subscription queue (an empty set is created for a new one). */
export function shareMembers(h: HubState, queue: string): Set<string> {
  let members = h.shareMembers.get(queue)
  if (members === undefined) {
    members = new Set()
    h.shareMembers.set(queue, members)
  }
  return members
}

/**
 * What a session or shared-subscription queue holds for a subscriber that is offline or does not keep up:
 * maxQueuedPerSession messages and maxQueuedBytesPerSession payload bytes; beyond either, the new message is
 * dropped (the queue's drop-new overflow, as Mosquitto's max_queued_messages): the publish still succeeds and
 * reaches every other subscriber, and the queue counts the drop (droppedTotal, wharf_queue_messages_dropped_total).
 */
function queueBounds(h: HubState) {
  return {
    maxLength: h.limits.maxQueuedPerSession,
    maxLengthBytes: h.limits.maxQueuedBytesPerSession,
    overflow: 'drop-new' as const,
  }
}

/** Gives a session or shared-subscription queue stored by an earlier run (or under other limits) the current bounds. */
export async function applyQueueBounds(h: HubState, name: string): Promise<void> {
  const queue = h.broker.getQueue(name)
  if (queue === undefined) return
  const bounds = queueBounds(h)
  const { maxLength, maxLengthBytes, overflow } = queue.config
  if (maxLength !== bounds.maxLength || maxLengthBytes !== bounds.maxLengthBytes || overflow !== bounds.overflow)
    await h.broker.alterQueue(name, bounds)
}

/** Creates the session queue if it does not exist yet (durable for persistent sessions). */
export async function ensureQueue(h: HubState, session: Session): Promise<void> {
  if (h.broker.getQueue(session.queueName) !== undefined) return
  await h.broker.createQueue(session.queueName, { durable: session.durableQueue, ...queueBounds(h) })
  keepOfflineQos0(h, session)
  session.connection?.consumeSession()
}

/**
 * Mosquitto's queue_qos0_messages false (`queueQos0Messages`, the default): a message that would reach a session
 * at QoS 0 (published at QoS 0, or matching only QoS 0 subscriptions) is not stored while its client is offline
 * (its queue has no consumer then); with it on, it is stored within the queue's bounds like QoS 1 and 2 ones.
 * Set on the queue at its creation and at every start.
 */
export function keepOfflineQos0(h: HubState, session: Session): void {
  const queue = h.broker.getQueue(session.queueName)
  if (queue === undefined) return
  if (h.limits.queueQos0Messages) {
    queue.publishing.dropWhileIdle(null)
    return
  }
  queue.publishing.dropWhileIdle((message) => {
    if (message.headers === undefined || qosOf(message) === 0) return true
    let qos = 0
    session.trie.match(topicOf({ headers: message.headers }), (sub) => {
      if (sub.qos > qos) qos = sub.qos
    })
    return qos === 0
  })
}
