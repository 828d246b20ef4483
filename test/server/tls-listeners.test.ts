// A real `wharf start` with TLS on every listener, seen from outside: openssl s_client on each TLS port
// (protocol version, the chain verifying against the CA, TLS 1.1 refused) and MQTT over secure WebSocket
// through the HTTPS listener with a password login.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import mqtt from 'mqtt'
import { devCertificates } from '../fixtures/tls.ts'
import { freePort, spawnWharf } from '../fixtures/wharf-process.ts'

test('every listener speaks TLS 1.2+ with a chain that verifies, and MQTT over WSS logs in', async (t) => {
  const files = await devCertificates()
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tls-listeners-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const ports = {
    kafka: await freePort(),
    kafkaTls: await freePort(),
    amqp: await freePort(),
    amqpTls: await freePort(),
    mqtt: await freePort(),
    mqttTls: await freePort(),
    http: await freePort(),
    https: await freePort(),
  }
  const wharf = spawnWharf(
    [
      '--data-dir',
      dir,
      '--kafka-port',
      String(ports.kafka),
      '--kafka-tls-port',
      String(ports.kafkaTls),
      '--amqp-port',
      String(ports.amqp),
      '--amqp-tls-port',
      String(ports.amqpTls),
      '--mqtt-port',
      String(ports.mqtt),
      '--mqtt-tls-port',
      String(ports.mqttTls),
      '--http-port',
      String(ports.http),
      '--https-port',
      String(ports.https),
      '--tls-cert-file',
      files.cert,
      '--tls-key-file',
      files.key,
      '--tls-ca-file',
      files.ca,
      '--anonymous',
      'false',
    ],
    { WHARF_USERS: JSON.stringify([{ name: 'alice', password: 'alice-pw', tags: ['administrator'] }]) },
  )
  t.after(() => wharf.proc.kill('SIGKILL'))
  await wharf.ready
  for (const [name, port] of Object.entries({
    kafka: ports.kafkaTls,
    amqp: ports.amqpTls,
    mqtt: ports.mqttTls,
    https: ports.https,
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
  assert.match(wharf.output(), new RegExp(`mqtts://[^ ]*:${ports.mqttTls}`))
  assert.match(wharf.output(), new RegExp(`https://[^ ]*:${ports.https}`))

  const options = { ca: readFileSync(files.ca), reconnectPeriod: 0, connectTimeout: 5000, rejectUnauthorized: true }
  await assert.rejects(
    mqtt.connectAsync(`wss://localhost:${ports.https}/mqtt`, { ...options, username: 'alice', password: 'wrong' }),
    /Not authorized|Bad user name or password/,
  )
  const client = await mqtt.connectAsync(`wss://localhost:${ports.https}/mqtt`, {
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
