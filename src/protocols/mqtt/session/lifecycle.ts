// Sessions from start to end: loading persistent ones from the catalog at start (with the packet ids of
// deliveries still unacknowledged, so a resend keeps its id), attaching a CONNECT to an existing or new
// session, saving, expiry after the connection went away (timers re-armed past 2^31 ms), and destroying.
// A session that ends publishes its pending will.
import { canonicalJson } from '../../../broker/schema/parse.js'
import type { HubState } from '../hub/state.js'
import { applyQueueBounds, keepOfflineQos0, leaveShare, shareMembers } from './bindings.js'
import { expiryNever, Session, type SessionRecord, sessionKind, sharedQueueName } from './session.js'

export async function loadSessions(h: HubState): Promise<void> {
  for (const [clientId, record] of h.broker.catalog<SessionRecord>(sessionKind).list()) {
    const session = sessionOf(h, clientId, record)
    h.sessions.set(clientId, session)
    scheduleExpiry(h, session)
  }
  // Queues of sessions or share groups that no longer exist (crash between the steps of a delete) go; the
  // others take the bounds configured now.
  const sessionQueues = new Map([...h.sessions.values()].map((s) => [s.queueName, s]))
  for (const queue of h.broker.listQueues()) {
    const orphanSession = queue.name.startsWith('mqtt.session.') && !sessionQueues.has(queue.name)
    const orphanShare = queue.name.startsWith('mqtt.share.') && !h.shareMembers.has(queue.name)
    if (orphanSession || orphanShare) await h.broker.deleteQueue(queue.name)
    else if (queue.name.startsWith('mqtt.session.') || queue.name.startsWith('mqtt.share.')) {
      await applyQueueBounds(h, queue.name)
      const session = sessionQueues.get(queue.name)
      if (session !== undefined) keepOfflineQos0(h, session)
    }
  }
}

/** A persistent session as the catalog keeps it, disconnected. */
function sessionOf(h: HubState, clientId: string, record: SessionRecord): Session {
  const session = new Session(clientId, true, record.expiryS)
  for (const sub of record.subscriptions) {
    session.subscriptions.set(sub.filter, sub)
    if (sub.group === null) session.trie.add(sub.topicFilter, sub)
    else shareMembers(h, sharedQueueName(sub.group, sub.topicFilter)).add(clientId)
  }
  for (const id of record.inRel) session.inRel.add(id)
  for (const id of record.outRel) {
    session.outRel.add(id)
    session.idsInUse.add(id)
  }
  for (const [key, id] of record.packetIds ?? []) {
    // Keep only ids of deliveries still unacknowledged: the others will never be resent.
    const [queue, partition, offset] = key.split('\u0000')
    if (h.broker.getQueue(queue ?? '')?.isAcked(Number(partition), Number(offset)) !== false) continue
    session.packetIds.set(key, id)
    session.idsInUse.add(id)
    session.sentBeforeRestart.add(key)
  }
  // A session that was connected when the broker stopped counts as disconnected now.
  session.disconnectedAt = record.disconnectedAt ?? h.broker.now()
  session.catalogDisconnectedAt = record.disconnectedAt
  return session
}

/**
 * In a cluster a client may resume its persistent session through any broker. The shared catalog holds the
 * session as the broker it used last saved it; when that differs from this broker's copy (or this broker has
 * none: the session began elsewhere after it started), the catalog's wins. A copy connected here is current.
 */
function adoptStoredSession(h: HubState, clientId: string): void {
  const stored = h.broker.catalog<SessionRecord>(sessionKind).get(clientId)
  const known = h.sessions.get(clientId)
  if (stored === undefined || (known !== undefined && (known.connection !== null || !known.durableQueue))) return
  if (known !== undefined && canonicalJson(recordOf(h, known)) === canonicalJson(stored)) return
  if (known?.expiryTimer) clearTimeout(known.expiryTimer)
  h.sessions.set(clientId, sessionOf(h, clientId, stored))
}

function recordOf(h: HubState, session: Session): SessionRecord {
  const node = session.disconnectedAt === null ? h.broker.cluster?.nodeId : undefined
  return {
    ...(node === undefined ? {} : { node }),
    expiryS: session.expiryS,
    subscriptions: [...session.subscriptions.values()],
    inRel: [...session.inRel],
    outRel: [...session.outRel],
    disconnectedAt: session.disconnectedAt,
    packetIds: [...session.packetIds],
  }
}

/** Persists a persistent session's state (no-op for clean sessions). */
export function saveSession(h: HubState, session: Session): Promise<void> {
  if (!session.persistent || h.sessions.get(session.clientId) !== session) return Promise.resolve()
  session.catalogDisconnectedAt = session.disconnectedAt
  return h.broker.catalog<SessionRecord>(sessionKind).put(session.clientId, recordOf(h, session))
}

/** Returns the session for a CONNECT: the existing one (sessionPresent) or a new one. */
export async function attachSession(
  h: HubState,
  clientId: string,
  cleanStart: boolean,
  persistent: boolean,
  expiryS: number,
): Promise<{ session: Session; present: boolean }> {
  // Resuming the session cancels a delayed will [MQTT-3.1.3-9]; Clean Start ends the session, which
  // publishes it [MQTT-3.1.2-8].
  if (cleanStart) h.wills.fire(clientId)
  else h.wills.cancel(clientId)
  if (!cleanStart && persistent) {
    // The session may have changed through another broker a moment ago (a SUBSCRIBE there, then this CONNECT
    // here): read its last committed state rather than wait for the change's notification.
    await h.broker.catalog<SessionRecord>(sessionKind).refresh(clientId)
    adoptStoredSession(h, clientId)
  }
  const existing = h.sessions.get(clientId)
  if (existing !== undefined && cleanStart) await destroySession(h, existing)
  let kept = cleanStart ? undefined : existing
  // A clean session taken over by a persistent one has in-memory bindings only: start it afresh.
  if (kept !== undefined && persistent && !kept.durableQueue) {
    await destroySession(h, kept)
    kept = undefined
  }
  if (kept !== undefined) {
    if (kept.expiryTimer) clearTimeout(kept.expiryTimer)
    kept.expiryTimer = null
    const wasPersistent = kept.persistent
    kept.persistent = persistent
    kept.expiryS = expiryS
    kept.disconnectedAt = null
    if (wasPersistent && !persistent) await h.broker.catalog(sessionKind).delete(kept.clientId)
    await saveSession(h, kept)
    return { session: kept, present: true }
  }
  const session = new Session(clientId, persistent, expiryS)
  h.sessions.set(clientId, session)
  await saveSession(h, session)
  return { session, present: false }
}

/** Ends a session: bindings, queue, share memberships, catalog entry. */
export async function destroySession(h: HubState, session: Session): Promise<void> {
  if (session.destroyed) return
  session.destroyed = true
  if (h.sessions.get(session.clientId) === session) h.sessions.delete(session.clientId)
  if (session.expiryTimer) clearTimeout(session.expiryTimer)
  session.expiryTimer = null
  for (const sub of session.subscriptions.values()) if (sub.group !== null) await leaveShare(h, session, sub)
  session.subscriptions.clear()
  if (session.sinkRegistered) {
    session.sinkRegistered = false
    await h.broker.removeSink(session.sinkId)
  }
  await h.broker.deleteQueue(session.queueName)
  if (session.durableQueue) await h.broker.catalog(sessionKind).delete(session.clientId)
}

/** Arms the session's expiry after its connection went away. */
export function scheduleExpiry(h: HubState, session: Session): void {
  if (session.expiryS === expiryNever || session.connection !== null) return
  const at = (session.disconnectedAt ?? h.broker.now()) + session.expiryS * 1000
  const delay = Math.max(0, at - h.broker.now())
  session.expiryTimer = setTimeout(
    () => {
      session.expiryTimer = null
      if (session.connection !== null || h.closed) return
      // Used through another broker of a cluster since: that broker arms the expiry when its client goes.
      const stored = h.broker.catalog<SessionRecord>(sessionKind).get(session.clientId)
      if (stored !== undefined && stored.disconnectedAt !== session.catalogDisconnectedAt) return
      // Connected through another live broker (this one started meanwhile): not expired while it is; should
      // that broker die with the client on it, the session expires a whole interval after this check.
      if (connectedAtLiveBroker(h, stored)) {
        session.disconnectedAt = h.broker.now()
        return scheduleExpiry(h, session)
      }
      // Timers cap at 2^31 ms (~24.8 days): a longer expiry re-arms until it is really due.
      if (at > h.broker.now()) return scheduleExpiry(h, session)
      h.wills.fire(session.clientId)
      destroySession(h, session).catch((error) =>
        h.logger.warn({ err: error, clientId: session.clientId }, 'session expiry failed'),
      )
    },
    Math.min(delay, 0x7fffffff),
  )
  session.expiryTimer.unref()
}

/** Whether the catalog has the session connected through another broker that is a live member. */
function connectedAtLiveBroker(h: HubState, stored: SessionRecord | undefined): boolean {
  const cluster = h.broker.cluster
  if (cluster === undefined || stored?.node === undefined || stored.disconnectedAt !== null) return false
  return stored.node !== cluster.nodeId && cluster.members().some((m) => m.id === stored.node)
}
