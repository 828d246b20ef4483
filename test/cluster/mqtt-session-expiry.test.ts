// An MQTT 5 persistent session (mqtt.js, 3 s Session Expiry Interval) whose client stays connected through one
// broker while another broker of the cluster restarts: the restarted broker loads the session from the shared
// catalog, and must not expire it while its client is connected elsewhere. Checked past the interval: the
// client still gets what is published to its subscription, and the session is still in the catalog.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import mqtt from 'mqtt'
import { type ClusterBroker, startCluster } from '../fixtures/cluster.ts'
import { sleep } from './kafka-helpers.ts'

test('a session connected through one broker is not expired by another broker that restarted', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['mqtt'], leaseMs: 3000, heartbeatMs: 500 })
  if (cluster === undefined) return
  const [first, second] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const url = (broker: ClusterBroker) => `mqtt://127.0.0.1:${broker.ports.mqtt}`

  const got: string[] = []
  const client = mqtt.connect(url(second), {
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

  const publisher = await mqtt.connectAsync(url(first), { clientId: 'pub', reconnectPeriod: 0 })
  t.after(() => publisher.endAsync(true))
  await publisher.publishAsync('stay/1', 'still here', { qos: 1 })
  for (const deadline = Date.now() + 10_000; got.length === 0 && Date.now() < deadline; ) await sleep(100)
  assert.deepEqual(got, ['still here'], 'the connected client still receives on its subscription')
  assert.ok(client.connected, 'the client is still connected')
})
