// Persistent MQTT sessions (mqtt.js v5) on two brokers over one PostgreSQL:
// - a session whose client stays connected through one broker while the other restarts (and loads the session
//   from the shared catalog) is not expired by the restarted broker: past its 3 s interval the client still
//   gets what is published to its subscription;
// - a session resumed through the other broker at once after a SUBSCRIBE, while that broker has not heard of
//   the SUBSCRIBE (its catalog notifications cut), is present and has that subscription;
// - QoS 2 publishes through one broker reach a QoS 2 subscriber on the other once each, in order.
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import mqtt from 'mqtt'
import pg from 'pg'
import { type ClusterBroker, type ClusterOptions, startCluster } from '../fixtures/cluster.ts'
import { sleep } from './kafka-helpers.ts'

const mqttUrl = (broker: ClusterBroker) => `mqtt://127.0.0.1:${broker.ports.mqtt}`

/** Two brokers with MQTT listeners (and `options`), or undefined when the test is skipped. */
async function twoBrokers(t: TestContext, options: ClusterOptions = {}) {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['mqtt'], ...options })
  if (cluster === undefined) return undefined
  const [first, second] = cluster.brokers as [ClusterBroker, ClusterBroker]
  return { cluster, first, second }
}

test('a session connected through one broker is not expired by another broker that restarted', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await twoBrokers(t, { leaseMs: 3000, heartbeatMs: 500 })
  if (cluster === undefined) return
  const { first, second } = cluster

  const got: string[] = []
  const client = mqtt.connect(mqttUrl(second), {
    clientId: 'stayer',
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 3 },
  })
  t.after(() => client.endAsync(true))
  client.on('message', (_topic, payload) => got.push(payload.toString()))
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  await client.subscribeAsync('stay/#', { qos: 1 })

  await first.restart()
  // Well past the interval, counted from when the restarted broker loaded the session.
  await sleep(6000)

  const publisher = await mqtt.connectAsync(mqttUrl(first), { clientId: 'pub', reconnectPeriod: 0 })
  t.after(() => publisher.endAsync(true))
  await publisher.publishAsync('stay/1', 'still here', { qos: 1 })
  for (const deadline = Date.now() + 10_000; got.length === 0 && Date.now() < deadline; ) await sleep(100)
  assert.deepEqual(got, ['still here'], 'the connected client still receives on its subscription')
  assert.ok(client.connected, 'the client is still connected')
})

test('a session resumed through another broker right after a SUBSCRIBE has that subscription', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await twoBrokers(t)
  if (cluster === undefined) return
  const { first, second } = cluster
  // Published through the broker that took the SUBSCRIBE, whose routing has the subscription already.
  const publisher = await mqtt.connectAsync(mqttUrl(first), { clientId: 'race-pub', reconnectPeriod: 0 })
  t.after(() => publisher.endAsync(true))
  const db = new pg.Client({ connectionString: cluster.cluster.url })
  db.on('error', () => {}) // the server stops at the end of the test
  await db.connect()
  t.after(() => db.end())
  for (let round = 0; round < 3; round++) {
    const options = {
      clientId: `racer-${round}`,
      clean: false,
      protocolVersion: 5 as const,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 300 },
    }
    const before = await mqtt.connectAsync(mqttUrl(first), options)
    await sleep(300) // the session itself has reached the other broker
    // The brokers' listening connections cut: notifications of the next moments are lost until they reconnect
    // (100 ms on) and re-read the catalog, which makes the window a resume could fall into wide enough to hit.
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN wharf_catalog'`)
    await before.subscribeAsync(`race/${round}/#`, { qos: 1 })
    await before.endAsync()
    // At once through the other broker: no waiting for the change to be announced.
    const after = mqtt.connect(mqttUrl(second), options)
    const got: string[] = []
    after.on('message', (_topic, payload) => got.push(payload.toString()))
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      after.once('connect', resolve)
      after.once('error', reject)
    })
    assert.equal(connack.sessionPresent, true, `round ${round}: the session is present`)
    await publisher.publishAsync(`race/${round}/x`, `m${round}`, { qos: 1 })
    for (const deadline = Date.now() + 10_000; got.length === 0 && Date.now() < deadline; ) await sleep(50)
    assert.deepEqual(got, [`m${round}`], `round ${round}: delivered on the subscription made through the other broker`)
    await after.endAsync()
  }
})

test('QoS 2 publishes through one broker reach a QoS 2 subscriber on the other exactly once', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await twoBrokers(t)
  if (cluster === undefined) return
  const { first, second } = cluster
  const got: string[] = []
  const subscriber = await mqtt.connectAsync(mqttUrl(first), { clientId: 'q2-sub', clean: false, reconnectPeriod: 0 })
  t.after(() => subscriber.endAsync(true))
  subscriber.on('message', (_topic, payload, packet) => got.push(`${payload}:${packet.qos}`))
  await subscriber.subscribeAsync('q2/#', { qos: 2 })
  const publisher = await mqtt.connectAsync(mqttUrl(second), { clientId: 'q2-pub', reconnectPeriod: 0 })
  t.after(() => publisher.endAsync(true))
  // The subscription reaches the other broker's routing within moments: publish a probe until one arrives.
  for (const deadline = Date.now() + 15_000; got.length === 0; await sleep(200)) {
    await publisher.publishAsync('q2/probe', 'probe', { qos: 2 })
    assert.ok(Date.now() < deadline, 'the subscription reached the publishing broker')
  }
  await sleep(500)
  got.length = 0
  for (let i = 0; i < 10; i++) await publisher.publishAsync(`q2/${i}`, `m${i}`, { qos: 2 })
  for (const deadline = Date.now() + 10_000; got.length < 10 && Date.now() < deadline; ) await sleep(50)
  await sleep(500)
  assert.deepEqual(
    got,
    Array.from({ length: 10 }, (_, i) => `m${i}:2`),
  )
})
