// SASL authentication with real clients: kcat (librdkafka 2.0.2) SCRAM-SHA-512 over TLS, kafkajs SCRAM-SHA-256
// over TLS, kafka-python PLAIN and SCRAM over plaintext (bare tokens after SaslHandshake v0), and what a client
// without credentials may do when anonymous access is off.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { devCertificates } from '../../fixtures/tls.ts'
import { run, silentKafkaLogs, startHarness } from './harness.ts'

const users = [
  { name: 'alice', password: 'alice-pw' },
  { name: 'bob', password: 'bob-pw' },
]

function kcatScram(bootstrap: string, ca: string, mechanism: string, user: string, password: string): string[] {
  return [
    '-b',
    bootstrap,
    '-X',
    'security.protocol=SASL_SSL',
    '-X',
    `sasl.mechanisms=${mechanism}`,
    '-X',
    `sasl.username=${user}`,
    '-X',
    `sasl.password=${password}`,
    '-X',
    `ssl.ca.location=${ca}`,
  ]
}

test('kcat SASL_SSL with SCRAM-SHA-512: the right password produces and consumes, a wrong one is refused', async (t) => {
  const h = await startHarness(t, {}, { users, anonymous: false, tls: 'none' })
  const { ca } = await devCertificates()
  const alice = kcatScram(h.tlsBootstrap, ca, 'SCRAM-SHA-512', 'alice', 'alice-pw')
  await run('kcat', [...alice, '-P', '-t', 'scram-topic'], { input: 'one\ntwo\n' })
  const consumed = await run('kcat', [...alice, '-C', '-t', 'scram-topic', '-o', 'beginning', '-e', '-f', '%s\n'])
  assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two'])

  const wrong = kcatScram(h.tlsBootstrap, ca, 'SCRAM-SHA-512', 'alice', 'wrong')
  const refused = await run('kcat', [...wrong, '-L', '-m', '3'], { timeoutMs: 20_000 }).then(
    () => undefined,
    (error: Error) => error.message,
  )
  assert.ok(refused !== undefined, 'a wrong SCRAM password must fail')
  assert.match(refused, /Authentication failed|SASL authentication error/i)
  // SCRAM-SHA-256 too, and an unknown user fails like a wrong password.
  const sha256 = kcatScram(h.tlsBootstrap, ca, 'SCRAM-SHA-256', 'bob', 'bob-pw')
  await run('kcat', [...sha256, '-P', '-t', 'scram-topic'], { input: 'three\n' })
  assert.equal(h.broker.stream('scram-topic').partitionLog(0).highWatermark, 3)
  await assert.rejects(
    run('kcat', [...kcatScram(h.tlsBootstrap, ca, 'SCRAM-SHA-256', 'mallory', 'x'), '-L', '-m', '3'], {
      timeoutMs: 20_000,
    }),
    /Authentication failed|SASL authentication error/i,
  )
})

test('kafkajs SCRAM-SHA-256 over TLS: connects with the CA and the right password; a wrong one is rejected', async (t) => {
  const h = await startHarness(t, {}, { users, anonymous: false, tls: 'none' })
  const { readFileSync } = await import('node:fs')
  const ca = readFileSync((await devCertificates()).ca, 'utf8')
  const client = (password: string) =>
    new Kafka({
      clientId: 'kafkajs-scram',
      brokers: [h.tlsBootstrap],
      ssl: { ca: [ca] },
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password },
      logLevel: logLevel.NOTHING,
      logCreator: silentKafkaLogs,
      retry: { retries: 0 },
    })
  const producer = client('alice-pw').producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  await producer.send({ topic: 'kjs-scram', messages: [{ value: 'hello' }] })
  assert.equal(h.broker.stream('kjs-scram').partitionLog(0).highWatermark, 1)
  // The connection list names the user and says TLS.
  const info = h.listener.connections.list().find((c) => c.user === 'alice')
  assert.ok(info, JSON.stringify(h.listener.connections.list()))
  assert.equal(info.tls, true)

  const bad = client('wrong').admin()
  await assert.rejects(bad.connect(), /SASL SCRAM SHA256 authentication failed|Authentication failed/i)
})

const pythonClient = `
import sys, json
from kafka import KafkaProducer
from kafka.errors import KafkaError
port, mechanism, user, password = sys.argv[1:5]
try:
    producer = KafkaProducer(bootstrap_servers='127.0.0.1:' + port, security_protocol='SASL_PLAINTEXT',
                             sasl_mechanism=mechanism, sasl_plain_username=user, sasl_plain_password=password,
                             acks=1, api_version_auto_timeout_ms=10000, request_timeout_ms=10000, max_block_ms=10000)
    producer.send('py-sasl', b'from-' + user.encode()).get(timeout=10)
    producer.close()
    print(json.dumps({'ok': True}))
except Exception as e:
    print(json.dumps({'ok': False, 'error': type(e).__name__ + ': ' + str(e)}))
`

async function python(port: number, mechanism: string, user: string, password: string) {
  const { stdout } = await run('/usr/bin/python3', ['-c', pythonClient, String(port), mechanism, user, password], {
    timeoutMs: 60_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; error?: string }
}

test('kafka-python PLAIN and SCRAM over SASL_PLAINTEXT (SaslHandshake v0, bare tokens): right and wrong passwords', async (t) => {
  const h = await startHarness(t, {}, { users, anonymous: false })
  assert.deepEqual(await python(h.port, 'PLAIN', 'alice', 'alice-pw'), { ok: true })
  assert.deepEqual(await python(h.port, 'SCRAM-SHA-512', 'bob', 'bob-pw'), { ok: true })
  assert.equal(h.broker.stream('py-sasl').partitionLog(0).highWatermark, 2)
  const wrongPlain = await python(h.port, 'PLAIN', 'alice', 'nope')
  assert.equal(wrongPlain.ok, false)
  const wrongScram = await python(h.port, 'SCRAM-SHA-256', 'bob', 'nope')
  assert.equal(wrongScram.ok, false)
  assert.equal(h.broker.stream('py-sasl').partitionLog(0).highWatermark, 2)
})

test('anonymous access off: a client without SASL cannot produce; with anonymous on it can', async (t) => {
  const closed = await startHarness(t, {}, { users, anonymous: false })
  await assert.rejects(
    run('kcat', ['-b', closed.bootstrap, '-P', '-t', 'anon', '-X', 'message.timeout.ms=4000'], {
      input: 'x\n',
      timeoutMs: 20_000,
    }),
  )
  assert.equal(closed.broker.getStream('anon'), undefined)

  const open = await startHarness(t, {}, { users, anonymous: true })
  await run('kcat', ['-b', open.bootstrap, '-P', '-t', 'anon'], { input: 'x\n' })
  assert.equal(open.broker.stream('anon').partitionLog(0).highWatermark, 1)
})
