// GET /api/v1/alarms, the wharf_alarm, wharf_connections_blocked and wharf_connection_blocked gauges, and
// the MQTT admin lists (/api/v1/mqtt/sessions,
// /api/v1/mqtt/retained), over real HTTP against HTTP + AMQP + MQTT listeners sharing one alarm monitor.
// Traffic comes from amqplib (a blocked publisher) and mqtt.js (a persistent session, a retained message).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import amqplib from 'amqplib'
import mqtt from 'mqtt'
import { startHttpListener } from '../../../../src/protocols/http/listener.ts'
import { startMqttListener } from '../../../../src/protocols/mqtt/index.ts'
import { silentLogger } from '../../../../src/util/logger.ts'
import { type Started, startAlarmedWharf } from '../../../fixtures/alarmed-wharf.ts'
import { createTestBroker } from '../../../fixtures/test-storage.ts'

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk untyped JSON replies
type Json = Record<string, any>

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('alarms endpoint and gauge follow the monitor; blocked AMQP publishers are counted', {
  timeout: 30_000,
}, async (t) => {
  const { alarms, disk, base, amqpPort } = await startAlarmedWharf(t, {
    prefix: 'wharf-http-alarm-',
    limitBytes: 10_000,
    freeBytes: 1_000_000,
  })
  const get = async (path: string) => (await (await fetch(`${base}/api/v1${path}`)).json()) as Json
  const scrape = async () => (await fetch(`${base}/metrics`)).text()
  const gauge = async () => /^wharf_alarm\{kind="disk"\} (\d)$/m.exec(await scrape())?.[1]
  /** wharf_connection_blocked series: who is held back. */
  const blockedSeries = async () =>
    [...(await scrape()).matchAll(/^wharf_connection_blocked\{(.*)\} 1$/gm)].map((m) => m[1])

  assert.deepEqual(await get('/alarms'), {
    alarms: [],
    blockedPublishers: 0,
    blockedPublishersByProtocol: { amqp: 0, mqtt: 0 },
  })
  assert.equal(await gauge(), '0')

  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`)
  t.after(() => conn.close().catch(() => {}))
  const ch = await conn.createChannel()
  await ch.assertQueue('q')
  ch.sendToQueue('q', Buffer.from('x'))
  await ch.checkQueue('q')

  disk.free = 100
  await alarms.check()
  let state = await get('/alarms')
  for (let i = 0; i < 50 && state.blockedPublishers === 0; i++) {
    await sleep(20)
    state = await get('/alarms')
  }
  assert.equal(state.alarms.length, 1)
  assert.equal(state.alarms[0].kind, 'disk')
  assert.equal(state.alarms[0].value, 100)
  assert.equal(state.alarms[0].limit, 10_000)
  assert.match(state.alarms[0].message, /low on disk space/)
  assert.equal(state.blockedPublishers, 1)
  assert.equal(await gauge(), '1')
  const text = await scrape()
  assert.match(text, /^wharf_connections_blocked\{protocol="amqp"\} 1$/m)
  assert.match(text, /^wharf_connections_blocked\{protocol="mqtt"\} 0$/m)
  const [who, ...others] = await blockedSeries()
  assert.deepEqual(others, [])
  const [listed] = (await get('/connections?protocol=amqp')).items
  assert.equal(listed.blockedByAlarm, true)
  assert.equal(who, `protocol="amqp",connection="${listed.id}",peer="${listed.remoteAddress}",user="guest"`)

  disk.free = 1_000_000
  await alarms.check()
  assert.deepEqual(await get('/alarms'), {
    alarms: [],
    blockedPublishers: 0,
    blockedPublishersByProtocol: { amqp: 0, mqtt: 0 },
  })
  assert.equal(await gauge(), '0')
  assert.deepEqual(await blockedSeries(), [])
  assert.match(await scrape(), /^wharf_connections_blocked\{protocol="amqp"\} 0$/m)
})

test('MQTT admin lists: persistent sessions from the catalog and retained topics with sizes', {
  timeout: 30_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-http-mqtt-'))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const started = new Map<string, Started>()
  const ctx = { broker, host: '127.0.0.1', port: 0, logger: silentLogger, started }
  const http = await startHttpListener(ctx)
  started.set('http', http)
  const mqttListener = await startMqttListener({ ...ctx, mqttLimits: { sysIntervalMs: 0 } })
  started.set('mqtt', mqttListener)
  t.after(async () => {
    for (const l of [...started.values()].reverse()) await l.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const base = `http://127.0.0.1:${http.port}`
  const get = async (path: string) => (await (await fetch(`${base}/api/v1${path}`)).json()) as Json

  const persistent = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: mqttListener.port,
    clientId: 'sensor-7',
    clean: false,
    reconnectPeriod: 0,
  })
  await persistent.subscribeAsync('plant/+/temp', { qos: 1 })
  const clean = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: mqttListener.port,
    clientId: 'ephemeral',
    reconnectPeriod: 0,
  })
  t.after(() => {
    persistent.end(true)
    clean.end(true)
  })
  await clean.publishAsync('plant/a/temp', '21.5', { qos: 1, retain: true })
  await clean.publishAsync('plant/b/temp', 'x'.repeat(300), { qos: 1, retain: true })
  await clean.publishAsync('plant/c/temp', 'not retained', { qos: 1 })

  const sessions = await get('/mqtt/sessions')
  assert.equal(sessions.total, 1) // the clean session is not persistent
  assert.equal(sessions.items[0].clientId, 'sensor-7')
  assert.equal(sessions.items[0].connected, true)
  assert.deepEqual(sessions.items[0].subscriptions, [{ filter: 'plant/+/temp', qos: 1 }])

  const retained = await get('/mqtt/retained')
  assert.equal(retained.total, 2)
  assert.deepEqual(
    retained.items.map((m: Json) => [m.topic, m.bytes]),
    [
      ['plant/a/temp', 4],
      ['plant/b/temp', 300],
    ],
  )
  assert.deepEqual(
    (await get('/mqtt/retained?q=B/TEMP')).items.map((m: Json) => m.topic),
    ['plant/b/temp'],
  )

  // Disconnected, the session stays listed (it is persistent), marked as such.
  await persistent.endAsync()
  let after = await get('/mqtt/sessions')
  for (let i = 0; i < 50 && after.items[0]?.connected !== false; i++) {
    await sleep(20)
    after = await get('/mqtt/sessions')
  }
  assert.equal(after.total, 1)
  assert.equal(after.items[0].connected, false)
})
