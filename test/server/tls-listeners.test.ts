// A real `wharf start` with TLS on every listener, seen from outside: openssl s_client on each TLS port
// (protocol version, the chain verifying against the CA, TLS 1.1 refused) and MQTT over secure WebSocket
// through the HTTPS listener with a password login.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import mqtt from 'mqtt'
import { startSpawned } from '../fixtures/spawned-wharf.ts'
import { devCertificates } from '../fixtures/tls.ts'
import { freePort } from '../fixtures/wharf-process.ts'

test('every listener speaks TLS 1.2+ with a chain that verifies, and MQTT over WSS logs in', async (t) => {
  const files = await devCertificates()
  const tlsPorts = { kafka: await freePort(), amqp: await freePort(), mqtt: await freePort(), https: await freePort() }
  const { wharf } = await startSpawned(t, ['kafka', 'amqp', 'mqtt', 'http'], {
    args: [
      ...['--kafka-tls-port', String(tlsPorts.kafka), '--amqp-tls-port', String(tlsPorts.amqp)],
      ...['--mqtt-tls-port', String(tlsPorts.mqtt), '--https-port', String(tlsPorts.https)],
      ...['--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-file', files.ca],
      ...[
        '--anonymous',
        'false',
        '--users',
        JSON.stringify([{ name: 'alice', password: 'alice-pw', tags: ['administrator'] }]),
      ],
    ],
  })
  for (const [name, port] of Object.entries({
    kafka: tlsPorts.kafka,
    amqp: tlsPorts.amqp,
    mqtt: tlsPorts.mqtt,
    https: tlsPorts.https,
  })) {
    const sClient = (...args: string[]) =>
      spawnSync(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          'localhost',
          '-CAfile',
          files.ca,
          '-verify_return_error',
          '-verify_hostname',
          'localhost',
          ...args,
        ],
        { input: '', encoding: 'utf8', timeout: 20_000 },
      )
    for (const [flag, version] of [
      ['-tls1_3', 'TLSv1.3'],
      ['-tls1_2', 'TLSv1.2'],
    ] as const) {
      const r = sClient(flag)
      assert.equal(r.status, 0, `${name} ${version}: ${r.stdout}${r.stderr}`)
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/, `${name}: the chain verifies`)
      const escaped = version.replace('.', '\\.')
      assert.match(
        r.stdout,
        new RegExp(`(New, ${escaped}, Cipher)|(Protocol *: ${escaped})`),
        `${name} speaks ${version}`,
      )
      assert.match(r.stdout, /s:CN ?= ?localhost/, `${name} presents the server certificate`)
      assert.match(r.stdout, /i:CN ?= ?Wharf development CA/, `${name}: issued by the CA`)
    }
    const old = sClient('-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0')
    assert.notEqual(old.status, 0, `${name} refuses TLS 1.1`)
  }
  assert.match(wharf.output(), new RegExp(`mqtts://[^ ]*:${tlsPorts.mqtt}`))
  assert.match(wharf.output(), new RegExp(`https://[^ ]*:${tlsPorts.https}`))

  const options = { ca: readFileSync(files.ca), reconnectPeriod: 0, connectTimeout: 5000, rejectUnauthorized: true }
  await assert.rejects(
    mqtt.connectAsync(`wss://localhost:${tlsPorts.https}/mqtt`, { ...options, username: 'alice', password: 'wrong' }),
    /Not authorized|Bad user name or password/,
  )
  const client = await mqtt.connectAsync(`wss://localhost:${tlsPorts.https}/mqtt`, {
    ...options,
    username: 'alice',
    password: 'alice-pw',
  })
  t.after(() => client.end(true))
  await client.subscribeAsync('tls/check', { qos: 1 })
  const got = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())))
  await client.publishAsync('tls/check', 'over wss', { qos: 1 })
  assert.equal(await got, 'over wss')
})
