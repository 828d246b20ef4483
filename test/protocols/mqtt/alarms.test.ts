// Resource alarms through mqtt.js: while the server's disk or memory alarm is on, a connection that publishes
// is no longer read — its PUBLISH is neither routed nor acknowledged — and subscribers go on receiving;
// when the alarm clears the held PUBLISH completes.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import mqtt from 'mqtt'
import type { Alarm, AlarmSource } from '../../../src/protocols/common/listener.ts'
import { startMqttListener } from '../../../src/protocols/mqtt/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { collect, connect, rawClient, sleep } from './helpers.ts'

/** An AlarmSource the test raises and clears by hand. */
function fakeAlarms(): AlarmSource & { set(list: Alarm[]): void } {
  let current: Alarm[] = []
  const listeners = new Set<(alarms: Alarm[]) => void>()
  return {
    current: () => current,
    onChange(callback) {
      listeners.add(callback)
      return () => listeners.delete(callback)
    },
    set(list) {
      current = list
      for (const callback of listeners) callback(list)
    },
  }
}

const diskAlarm: Alarm = { kind: 'disk', message: 'low on disk space', since: Date.now(), value: 1, limit: 2 }

async function startAlarmed(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-alarm-'))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const alarms = fakeAlarms()
  const listener = await startMqttListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    alarms,
    mqttLimits: { sysIntervalMs: 0 },
  })
  t.after(async () => {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { broker, listener, alarms, port: listener.port }
}

test('mqtt.js: under an alarm a QoS 1 publish is neither stored nor acknowledged until it clears; subscribers still receive', {
  timeout: 20_000,
}, async (t) => {
  const w = await startAlarmed(t)
  // A persistent session, offline: what reaches its queue is what the broker stored.
  const keeper = await connect(t, w, { clientId: 'keeper', clean: false })
  await keeper.subscribeAsync('alarm/t', { qos: 1 })
  await keeper.endAsync()
  const queue = w.broker.queue('mqtt.session.keeper')
  // A live subscriber that never publishes.
  const live = await connect(t, w, { clientId: 'live' })
  const liveInbox = collect(live)
  await live.subscribeAsync('alarm/t', { qos: 1 })

  const pub = await connect(t, w, { clientId: 'pub' })
  await pub.publishAsync('alarm/t', 'before', { qos: 1 })
  assert.equal(queue.depth(), 1)
  await liveInbox.next(1)

  w.alarms.set([diskAlarm])
  let acknowledged = false
  const during = pub.publishAsync('alarm/t', 'during', { qos: 1 }).then(() => {
    acknowledged = true
  })
  await sleep(500)
  assert.equal(acknowledged, false, 'no PUBACK while the alarm is on')
  assert.equal(queue.depth(), 1, 'nothing stored while the alarm is on')
  assert.equal(liveInbox.messages.length, 1, 'nothing routed while the alarm is on')
  assert.equal(w.listener.blockedPublisherCount, 1)
  const blocked = w.listener.connections.list().filter((c) => c.details?.blockedByAlarm === true)
  assert.deepEqual(
    blocked.map((c) => c.clientId),
    ['pub'],
  )

  // A subscriber is still read and served: the persistent session gets what was published before the alarm.
  // Listening before CONNACK: the queued message follows it at once.
  const back = mqtt.connect({ host: '127.0.0.1', port: w.port, clientId: 'keeper', clean: false, reconnectPeriod: 0 })
  t.after(() => back.end(true))
  const keeperInbox = collect(back)
  const [first] = await keeperInbox.next(1)
  assert.equal(first!.payload.toString(), 'before')
  assert.equal(w.listener.blockedPublisherCount, 1, 'a subscriber is not counted as a blocked publisher')

  w.alarms.set([])
  await during
  assert.equal(w.listener.blockedPublisherCount, 0)
  const got = await keeperInbox.next(2)
  assert.deepEqual(
    got.map((m) => m.payload.toString()),
    ['before', 'during'],
  )
  const liveGot = await liveInbox.next(2)
  assert.equal(liveGot[1]!.payload.toString(), 'during')
})

test('mqtt.js: a client connected during an alarm is held back at its first PUBLISH (QoS 0 too)', {
  timeout: 20_000,
}, async (t) => {
  const w = await startAlarmed(t)
  w.alarms.set([diskAlarm])
  const sub = await connect(t, w, { clientId: 'sub' })
  const inbox = collect(sub)
  await sub.subscribeAsync('alarm/q0', { qos: 0 })
  const pub = await connect(t, w, { clientId: 'pub0' })
  assert.equal(w.listener.blockedPublisherCount, 0, 'connected, not yet publishing')
  pub.publish('alarm/q0', 'held', { qos: 0 })
  await sleep(400)
  assert.equal(inbox.messages.length, 0)
  assert.equal(w.listener.blockedPublisherCount, 1)
  w.alarms.set([])
  const [message] = await inbox.next(1)
  assert.equal(message!.payload.toString(), 'held')
  assert.equal(w.listener.blockedPublisherCount, 0)
})

test('a publisher held by an alarm is not closed for keep-alive (its PINGREQs wait unread); it goes on after', {
  timeout: 20_000,
}, async (t) => {
  const w = await startAlarmed(t)
  const raw = await rawClient(t, w.port, 4)
  raw.send({ cmd: 'connect', clientId: 'held', protocolVersion: 4, clean: true, keepalive: 1 })
  await raw.next('connack')
  w.alarms.set([diskAlarm])
  raw.send({
    cmd: 'publish',
    topic: 'alarm/ka',
    payload: Buffer.from('x'),
    qos: 1,
    messageId: 7,
    retain: false,
    dup: false,
  })
  let closed = false
  void raw.closed.then(() => {
    closed = true
  })
  // Well past 1.5 × the 1 s keep-alive, checked once a second.
  for (let i = 0; i < 6; i++) {
    raw.send({ cmd: 'pingreq' })
    await sleep(500)
  }
  assert.equal(closed, false, 'the broker kept the held connection')
  w.alarms.set([])
  const ack = await raw.next('puback')
  assert.equal((ack as { messageId?: number }).messageId, 7)
  await raw.next('pingresp')
})
