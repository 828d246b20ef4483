// A persistent session whose client is offline (or does not keep up) holds at most maxQueuedBytesPerSession
// payload bytes in its queue, whatever the message count: beyond it new messages are dropped and the oldest
// wait (Mosquitto's max_queued_bytes). The bound, and the overflow, also reach session queues stored by an
// earlier run under other limits (or with the drop-oldest overflow older versions gave them).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import mqtt from 'mqtt'
import { collect, connect, sleep, startWharf } from './helpers.ts'

const PAYLOAD = 8 * 1024
const BOUND = 64 * 1024

/** Subscribes a persistent session to bytes/# at QoS 1, then leaves it offline. */
async function leaveOffline(t: Parameters<typeof connect>[0], w: { port: number }, clientId: string): Promise<void> {
  const sub = await connect(t, w, { clientId, clean: false, protocolVersion: 4 })
  await sub.subscribeAsync('bytes/#', { qos: 1 })
  await sub.endAsync()
}

async function publishNumbered(t: Parameters<typeof connect>[0], w: { port: number }, count: number): Promise<void> {
  const pub = await connect(t, w, { clientId: `pub-${count}` })
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(PAYLOAD, 0x61)
    payload.writeUInt32BE(i, 0)
    await pub.publishAsync(`bytes/${i}`, payload, { qos: 1 })
  }
  await pub.endAsync()
}

/**
 * What the session receives once it comes back: `expected` messages, then anything more within a second.
 * The handler is attached before the CONNECT goes out: the queued PUBLISHes follow the CONNACK at once, in
 * the same read, before connectAsync's caller could attach one.
 */
async function drain(
  t: Parameters<typeof connect>[0],
  w: { port: number },
  clientId: string,
  expected: number,
): Promise<number[]> {
  const sub = mqtt.connect({
    host: '127.0.0.1',
    port: w.port,
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  })
  t.after(() => sub.end(true))
  const inbox = collect(sub)
  await inbox.next(expected, 15_000)
  await sleep(1000)
  return inbox.messages.map((m) => m.payload.readUInt32BE(0))
}

test('an offline persistent session keeps at most maxQueuedBytesPerSession of QoS 1 payload: the oldest', {
  timeout: 60_000,
}, async (t) => {
  const w = await startWharf(t, { maxQueuedBytesPerSession: BOUND })
  await leaveOffline(t, w, 'offline-sub')
  await publishNumbered(t, w, 40)
  const queue = w.broker.queue('mqtt.session.offline-sub')
  assert.ok((queue.messageBytes() ?? Number.POSITIVE_INFINITY) <= BOUND, `queue holds ${queue.messageBytes()} bytes`)
  const got = await drain(t, w, 'offline-sub', BOUND / PAYLOAD)
  assert.equal(got.length, BOUND / PAYLOAD, `${got.length} of 40 messages kept`)
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7], 'the oldest wait, the newest were dropped')
  assert.equal(queue.queueStats().droppedTotal, 32, 'the drops are counted')
})

test('a session queue stored under a larger bound takes the configured one at the next start', {
  timeout: 60_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-bytes-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const first = await startWharf(t, { maxQueuedBytesPerSession: 100 * BOUND }, dir)
  await leaveOffline(t, first, 'stored-sub')
  await first.stop()

  const second = await startWharf(t, { maxQueuedBytesPerSession: BOUND }, dir)
  await publishNumbered(t, second, 20)
  const got = await drain(t, second, 'stored-sub', BOUND / PAYLOAD)
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7])
})
