// TLS-only listeners: with a certificate configured, a plaintext port of 0 turns off only the plaintext
// listener; the protocol keeps serving its TLS port (RabbitMQ's `listeners.tcp = none` beside
// `listeners.ssl.default`). A real `wharf start` whose plaintext ports are all 0, seen by kafkajs over SSL,
// amqplib over amqps, mqtt.js over mqtts and wss, and curl over HTTPS; the process listens on the TLS ports only.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import { startSpawned } from '../fixtures/spawned-wharf.ts'
import { devCertificates } from '../fixtures/tls.ts'
import { freePort } from '../fixtures/wharf-process.ts'

/** TCP ports the process listens on, from ss (socket owners are visible to this user). */
function listeningPorts(pid: number): number[] {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
  const ports = new Set<number>()
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue
    const local = line.trim().split(/\s+/)[3] ?? ''
    ports.add(Number(local.slice(local.lastIndexOf(':') + 1)))
  }
  return [...ports].sort((a, b) => a - b)
}

test('plaintext ports 0 with TLS configured: every protocol serves its TLS port only', {
  timeout: 90_000,
}, async (t) => {
  const files = await devCertificates()
  const ca = readFileSync(files.ca)
  const tls = { kafka: await freePort(), amqp: await freePort(), mqtt: await freePort(), https: await freePort() }
  // No protocol is named: the fixture turns every plaintext port off (--kafka-port 0 ...).
  const { wharf } = await startSpawned(t, [], {
    args: [
      ...['--kafka-tls-port', String(tls.kafka), '--amqp-tls-port', String(tls.amqp)],
      ...['--mqtt-tls-port', String(tls.mqtt), '--https-port', String(tls.https)],
      ...['--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-file', files.ca],
    ],
  })
  const pid = wharf.proc.pid ?? 0
  assert.deepEqual(
    listeningPorts(pid),
    Object.values(tls).sort((a, b) => a - b),
    'the process listens on the four TLS ports and nothing else',
  )
  const banner = wharf.output()
  assert.doesNotMatch(banner, /(kafka|amqp|mqtt|http|ws):\/\//, `no plaintext URL in the banner: ${banner}`)
  assert.match(banner, new RegExp(`kafka\\+ssl://[^ ]*:${tls.kafka}`))

  const kafka = new Kafka({
    clientId: 'tls-only',
    brokers: [`localhost:${tls.kafka}`],
    ssl: { ca: [ca] },
    logLevel: logLevel.NOTHING,
  })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: 'tls-only', acks: -1, messages: [{ value: 'over ssl' }] })
  const admin = kafka.admin()
  await admin.connect()
  assert.equal((await admin.fetchTopicOffsets('tls-only'))[0]?.high, '1')
  await Promise.all([producer.disconnect(), admin.disconnect()])

  const conn = await amqp.connect(`amqps://guest:guest@localhost:${tls.amqp}`, { ca: [ca] })
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('tls-only-q')
  ch.sendToQueue('tls-only-q', Buffer.from('over amqps'))
  await ch.waitForConfirms()
  const got = await ch.get('tls-only-q', { noAck: true })
  assert.equal(got ? got.content.toString() : got, 'over amqps')
  await conn.close()

  const options = { ca, reconnectPeriod: 0, connectTimeout: 5000, rejectUnauthorized: true }
  for (const url of [`mqtts://localhost:${tls.mqtt}`, `wss://localhost:${tls.https}/mqtt`]) {
    const client = await mqtt.connectAsync(url, options)
    await client.subscribeAsync('tls/only', { qos: 1 })
    const message = new Promise<string>((resolve) => client.once('message', (_topic, p) => resolve(p.toString())))
    await client.publishAsync('tls/only', url, { qos: 1 })
    assert.equal(await message, url)
    await client.endAsync()
  }

  const health = execFileSync(
    'curl',
    ['-s', '--max-time', '5', '--cacert', files.ca, `https://localhost:${tls.https}/healthz`],
    {
      encoding: 'utf8',
    },
  )
  assert.deepEqual(JSON.parse(health), { status: 'ok' })
})
