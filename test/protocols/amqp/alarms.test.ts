// Shared resource alarms through amqplib: a disk alarm (injected statfs reader, the real monitor) makes the
// broker send connection.blocked and stop reading a publishing connection; clearing it sends unblocked
// and the publishes held in the socket arrive.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import { type AlarmMonitor, createAlarmMonitor } from '../../../src/server/alarms.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { diskAlarms } from '../../fixtures/alarmed-wharf.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { connect, sleep } from './helpers.ts'

/** A broker and an AMQP listener watched by the alarms made for its data dir; all closed and removed after the test. */
async function startAlarmed<A extends { alarms: AlarmMonitor }>(t: TestContext, alarmsFor: (dir: string) => A) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-alarm-'))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const made = alarmsFor(dir)
  const alarms = made.alarms
  const listener = await startAmqpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger, alarms })
  t.after(async () => {
    alarms.close()
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { ...made, broker, listener }
}

test('amqplib: a disk alarm blocks the publisher (connection.blocked, no reads) until it clears', {
  timeout: 20_000,
}, async (t) => {
  const { broker, listener, alarms, disk } = await startAlarmed(t, (dir) => diskAlarms(dir, 10_000, 1_000_000))
  const conn = await connect(t, `amqp://guest:guest@127.0.0.1:${listener.port}`)
  const events: string[] = []
  conn.on('blocked', (reason: string) => events.push(`blocked: ${reason}`))
  conn.on('unblocked', () => events.push('unblocked'))
  const ch = await conn.createChannel()
  await ch.assertQueue('alarm-q')
  ch.sendToQueue('alarm-q', Buffer.from('before'))
  await ch.checkQueue('alarm-q') // a round trip: the publish has been read
  const queue = broker.queue('alarm-q')
  assert.equal(queue.depth(), 1)

  disk.free = 5_000
  await alarms.check()
  for (let i = 0; i < 50 && events.length === 0; i++) await sleep(20)
  assert.equal(events.length, 1)
  assert.match(events[0] ?? '', /^blocked: low on disk space/)
  assert.equal(listener.blockedPublisherCount, 1)

  // Publishes now sit in the socket: the broker does not read them.
  for (let i = 0; i < 5; i++) ch.sendToQueue('alarm-q', Buffer.from(`during ${i}`))
  await sleep(300)
  assert.equal(queue.depth(), 1)

  disk.free = 20_000
  await alarms.check()
  for (let i = 0; i < 100 && queue.depth() < 6; i++) await sleep(20)
  assert.deepEqual(events.slice(1), ['unblocked'])
  assert.equal(queue.depth(), 6)
  assert.equal(listener.blockedPublisherCount, 0)
  const got = await ch.get('alarm-q', { noAck: true })
  assert.ok(got)
  assert.equal(got.content.toString(), 'before')
})

test('amqplib: a connection opened while an alarm is active is held back from its first publish', {
  timeout: 20_000,
}, async (t) => {
  const { broker, listener, alarms } = await startAlarmed(t, (dir) => {
    const alarms = createAlarmMonitor({
      dataDir: dir,
      diskFreeLimitBytes: 0,
      memoryHighWatermarkBytes: 0,
      intervalMs: 0,
    })
    alarms.force('memory', 'forced memory alarm')
    return { alarms }
  })
  // amqplib emits 'blocked' while connect() is still resolving (before a listener can be attached), so
  // the block is proven by its effect: publishes are not read until the alarm clears.
  const conn = await connect(t, `amqp://guest:guest@127.0.0.1:${listener.port}`)
  const unblocked = new Promise<void>((resolve) => conn.once('unblocked', () => resolve()))
  const ch = await conn.createChannel()
  await ch.assertQueue('late-q')
  // As in RabbitMQ, the connection becomes a blocked publisher with its first publish (that one is read).
  ch.sendToQueue('late-q', Buffer.from('first'))
  for (let i = 0; i < 100 && broker.queue('late-q').depth() < 1; i++) await sleep(20)
  assert.equal(listener.blockedPublisherCount, 1)
  ch.sendToQueue('late-q', Buffer.from('held'))
  await sleep(300)
  assert.equal(broker.queue('late-q').depth(), 1)
  alarms.force('memory', null)
  await unblocked
  for (let i = 0; i < 100 && broker.queue('late-q').depth() < 2; i++) await sleep(20)
  assert.equal(broker.queue('late-q').depth(), 2)
})
