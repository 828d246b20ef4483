// Mosquitto's offline-session rules, through mqtt.js: a persistent session holds at most maxQueuedPerSession
// messages (max_queued_messages); beyond, the new message is dropped — silently for the publisher, whose
// PUBACKs all come and whose other subscribers get everything — and the session queue counts the drops. And
// queue_qos0_messages (false by default, `queueQos0Messages`): what would reach an offline persistent session
// at QoS 0 is not stored (the admin API's queue depth says so) nor delivered when it comes back, only its
// QoS 1/2 messages are; with the option on, both are stored and delivered.
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import mqtt from 'mqtt'
import { type AdminApi, startAdminApi } from '../../fixtures/admin-api.ts'
import { collect, connect, sleep, startWharf } from './helpers.ts'

/** A session queue's depth as the admin API reports it. */
async function depth(api: AdminApi, clientId: string): Promise<number> {
  const queue = await api.get(`/queues/${encodeURIComponent(`mqtt.session.${clientId}`)}`)
  return queue.depth
}

/** Subscribes a persistent session to `filter` at `qos`, then leaves it offline. */
async function leaveOffline(t: TestContext, w: { port: number }, clientId: string, filter: string, qos: 0 | 1) {
  const sub = await connect(t, w, { clientId, clean: false, protocolVersion: 4 })
  await sub.subscribeAsync(filter, { qos })
  await sub.endAsync()
}

/**
 * The payloads a persistent session receives when it comes back: `expected` of them, then anything more
 * within a second. The handler is attached before CONNECT: queued PUBLISHes follow the CONNACK at once.
 */
async function comeBack(t: TestContext, w: { port: number }, clientId: string, expected: number): Promise<string[]> {
  const sub = mqtt.connect({ host: '127.0.0.1', port: w.port, clientId, clean: false, reconnectPeriod: 0 })
  t.after(() => sub.end(true))
  const inbox = collect(sub)
  await inbox.next(expected, 15_000)
  await sleep(1000)
  return inbox.messages.map((m) => m.payload.toString())
}

test('a stalled persistent QoS 1 session keeps the first maxQueuedPerSession messages; later ones are dropped and counted, the publish succeeds for everyone else', {
  timeout: 60_000,
}, async (t) => {
  const w = await startWharf(t, { maxQueuedPerSession: 5 })
  await leaveOffline(t, w, 'stalled', 'work/#', 1)
  const other = await connect(t, w, { clientId: 'other' })
  await other.subscribeAsync('work/#', { qos: 1 })
  const otherInbox = collect(other)
  const pub = await connect(t, w, { clientId: 'pub' })
  // Every publish is acknowledged (PUBACK): the full session queue refuses nothing visibly.
  for (let i = 0; i < 12; i++) await pub.publishAsync(`work/${i}`, String(i), { qos: 1 })
  const all = await otherInbox.next(12, 15_000)
  assert.deepEqual(
    all.map((m) => m.payload.toString()),
    Array.from({ length: 12 }, (_, i) => String(i)),
    'the other subscriber got all twelve',
  )
  const stats = w.broker.queue('mqtt.session.stalled').queueStats()
  assert.equal(stats.depth, 5)
  assert.equal(stats.droppedTotal, 7, 'seven drops counted')
  assert.deepEqual(await comeBack(t, w, 'stalled', 5), ['0', '1', '2', '3', '4'], 'the first five, in order')
})

test('queue_qos0_messages false (default): an offline persistent session gets only what it would get at QoS 1 or 2', {
  timeout: 60_000,
}, async (t) => {
  const w = await startWharf(t)
  const api = await startAdminApi(t, w.broker, new Map([['mqtt', w.listener]]))
  await leaveOffline(t, w, 'q1-sub', 'q0/#', 1)
  await leaveOffline(t, w, 'q0-sub', 'q0/#', 0)
  const pub = await connect(t, w, { clientId: 'pub' })
  await pub.publishAsync('q0/a', 'qos0', { qos: 0 })
  await pub.publishAsync('q0/b', 'qos1', { qos: 1 })
  // Stored: only what the session gets at QoS 1 (Mosquitto stores no QoS 0 message for an offline client).
  assert.equal(await depth(api, 'q1-sub'), 1)
  assert.equal(await depth(api, 'q0-sub'), 0, 'a QoS 0 subscription gets everything at QoS 0: nothing stored')
  // The QoS 1 subscription: the QoS 0 publish is dropped, the QoS 1 one delivered.
  assert.deepEqual(await comeBack(t, w, 'q1-sub', 1), ['qos1'])
  // The QoS 0 subscription downgrades both to QoS 0: nothing kept.
  const q0 = mqtt.connect({ host: '127.0.0.1', port: w.port, clientId: 'q0-sub', clean: false, reconnectPeriod: 0 })
  t.after(() => q0.end(true))
  const inbox = collect(q0)
  await new Promise((resolve) => q0.once('connect', resolve))
  await sleep(1500)
  assert.deepEqual(
    inbox.messages.map((m) => m.payload.toString()),
    [],
  )
  // Online again, QoS 0 flows as usual.
  await pub.publishAsync('q0/c', 'online', { qos: 0 })
  assert.equal((await inbox.next(1, 10_000))[0]!.payload.toString(), 'online')
})

test('queue_qos0_messages true: an offline persistent session keeps its QoS 0 messages too', {
  timeout: 60_000,
}, async (t) => {
  const w = await startWharf(t, { queueQos0Messages: true, maxQueuedPerSession: 3 })
  const api = await startAdminApi(t, w.broker, new Map([['mqtt', w.listener]]))
  await leaveOffline(t, w, 'keeps-all', 'q0/#', 1)
  const pub = await connect(t, w, { clientId: 'pub' })
  await pub.publishAsync('q0/a', 'qos0', { qos: 0 })
  await pub.publishAsync('q0/b', 'qos1', { qos: 1 })
  assert.equal(await depth(api, 'keeps-all'), 2, 'both stored')
  // Bounded like QoS 1 messages: past maxQueuedPerSession the new one is dropped.
  await pub.publishAsync('q0/c', 'qos0 too', { qos: 0 })
  await pub.publishAsync('q0/d', 'one too many', { qos: 0 })
  await sleep(200)
  assert.equal(await depth(api, 'keeps-all'), 3)
  assert.deepEqual(await comeBack(t, w, 'keeps-all', 3), ['qos0', 'qos1', 'qos0 too'])
})
