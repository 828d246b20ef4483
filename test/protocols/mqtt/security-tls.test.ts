// MQTT over TLS with real clients: mosquitto_pub/mosquitto_sub with --cafile and -u/-P (right and wrong
// password), mosquitto_sub with a client certificate whose CN is the principal (told apart by an ACL), and
// mqtt.js over mqtts:// and wss:// (an HTTPS server standing in for the HTTP listener's).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { devCertificates } from '../../fixtures/tls.ts'
import { collect } from './helpers.ts'
import { connectTo, refusalCode, startSecureWharf, subackCodes } from './security-helpers.ts'

const run = promisify(execFile)

/** Runs a mosquitto client; resolves with its exit code and output whether it succeeded or not. */
async function mosquitto(
  command: 'mosquitto_pub' | 'mosquitto_sub',
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 20_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    if (typeof e.code !== 'number') throw error
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

const denyRead = (principal: string, resourceName: string) => ({
  principal,
  host: '*',
  operation: 'Read',
  permission: 'Deny',
  resourceType: 'MqttTopic',
  resourceName,
  patternType: 'Literal',
})

for (const version of ['mqttv311', 'mqttv5'] as const) {
  test(`mosquitto_pub/mosquitto_sub -V ${version} over TLS with --cafile -u -P: right password in, wrong refused`, async (t) => {
    const files = await devCertificates()
    const w = await startSecureWharf(t, { anonymous: false, tls: 'none' })
    const target = ['-V', version, '-h', '127.0.0.1', '-p', String(w.tlsPort), '--cafile', files.ca]

    const wrong = await mosquitto('mosquitto_pub', [
      ...target,
      '-u',
      'bob',
      '-P',
      'nope',
      '-t',
      'tls/denied',
      '-m',
      'x',
      '-r',
    ])
    assert.notEqual(wrong.code, 0)
    assert.match(wrong.stderr, version === 'mqttv5' ? /Bad User Name or Password/ : /not authorised/)
    const anonymous = await mosquitto('mosquitto_pub', [...target, '-t', 'tls/denied', '-m', 'x', '-r'])
    assert.notEqual(anonymous.code, 0)
    assert.match(anonymous.stderr, version === 'mqttv5' ? /Not authorized/ : /not authorised/)
    assert.deepEqual(w.listener.retainedMessages(), [], 'nothing was published by the refused clients')

    const right = await mosquitto('mosquitto_pub', [
      ...target,
      '-u',
      'bob',
      '-P',
      'bob-pw',
      '-t',
      'tls/ok',
      '-m',
      'kept',
      '-q',
      '1',
      '-r',
    ])
    assert.equal(right.code, 0, right.stderr)
    const sub = await mosquitto('mosquitto_sub', [
      ...target,
      '-u',
      'alice',
      '-P',
      'alice-pw',
      '-t',
      'tls/#',
      '-v',
      '-C',
      '1',
      '-W',
      '10',
    ])
    assert.equal(sub.code, 0, sub.stderr)
    assert.equal(sub.stdout.trim(), 'tls/ok kept')
  })

  test(`mosquitto_sub -V ${version} with a client certificate: its CN is the principal an ACL names`, async (t) => {
    const files = await devCertificates()
    const w = await startSecureWharf(t, { anonymous: false, tls: 'request', acls: [denyRead('User:bob', 'secret/#')] })
    const target = ['-V', version, '-h', '127.0.0.1', '-p', String(w.tlsPort), '--cafile', files.ca]
    const withCert = (name: string) => ['--cert', files.clients[name]!.cert, '--key', files.clients[name]!.key]
    const put = await mosquitto('mosquitto_pub', [
      ...target,
      '-u',
      'alice',
      '-P',
      'alice-pw',
      '-t',
      'secret/plan',
      '-m',
      'p',
      '-q',
      '1',
      '-r',
    ])
    assert.equal(put.code, 0, put.stderr)

    // CN=client: no rule names it, so the retained message arrives.
    const client = await mosquitto('mosquitto_sub', [
      ...target,
      ...withCert('client'),
      '-t',
      'secret/#',
      '-v',
      '-C',
      '1',
      '-W',
      '10',
    ])
    assert.equal(client.code, 0, client.stderr)
    assert.equal(client.stdout.trim(), 'secret/plan p')
    // CN=bob: the rule denies the subscription.
    const bob = await mosquitto('mosquitto_sub', [
      ...target,
      ...withCert('bob'),
      '-t',
      'secret/#',
      '-C',
      '1',
      '-W',
      '10',
    ])
    assert.match(bob.stderr, /All subscription requests were denied/)
    assert.equal(bob.stdout, '')
    // No certificate and no user name: anonymous, which is off.
    const none = await mosquitto('mosquitto_sub', [...target, '-t', 'secret/#', '-C', '1', '-W', '10'])
    assert.notEqual(none.code, 0)
    assert.match(none.stderr, version === 'mqttv5' ? /Not authorized/ : /not authorised/)
  })
}

test('mqtt.js over mqtts://: password and client-certificate logins, refusals, and the connection shown as TLS', async (t) => {
  const files = await devCertificates()
  const ca = readFileSync(files.ca)
  const w = await startSecureWharf(t, { anonymous: false, tls: 'request', acls: [denyRead('User:bob', 'secret/#')] })
  const url = `mqtts://127.0.0.1:${w.tlsPort}`
  assert.equal(await refusalCode(t, url, { ca, protocolVersion: 5, username: 'bob', password: 'nope' }), 0x86)
  assert.equal(await refusalCode(t, url, { ca, protocolVersion: 5 }), 0x87)
  // A plaintext client on the TLS port never gets a CONNACK.
  await assert.rejects(
    connectTo(t, `mqtt://127.0.0.1:${w.tlsPort}`, { protocolVersion: 5, username: 'bob', password: 'bob-pw' }),
  )

  const bob = await connectTo(t, url, { ca, protocolVersion: 5, username: 'bob', password: 'bob-pw', clientId: 'pw' })
  const inbox = collect(bob)
  assert.deepEqual(await subackCodes(bob, ['secret/#', 'tls/#']), [0x87, 1])
  await bob.publishAsync('tls/hello', 'over tls', { qos: 1 })
  assert.equal((await inbox.next(1))[0]?.payload.toString(), 'over tls')

  const { cert, key } = files.clients.bob!
  const bobByCert = await connectTo(t, url, {
    ca,
    cert: readFileSync(cert),
    key: readFileSync(key),
    protocolVersion: 4,
    clientId: 'cert',
  })
  assert.deepEqual(await subackCodes(bobByCert, ['secret/#']), [0x80], 'the certificate CN bob is User:bob')
  const infos = new Map(w.listener.connections.list().map((info) => [info.clientId, info]))
  assert.deepEqual(
    [infos.get('pw')?.user, infos.get('pw')?.tls, infos.get('cert')?.user, infos.get('cert')?.tls],
    ['bob', true, 'bob', true],
  )
  const plain = await connectTo(t, `mqtt://127.0.0.1:${w.port}`, {
    username: 'alice',
    password: 'alice-pw',
    clientId: 'tcp',
  })
  assert.ok(plain.connected)
  assert.equal(w.listener.connections.list().find((info) => info.clientId === 'tcp')?.tls, false)
})

test('mqtt.js over wss:// on the HTTPS server: password and client-certificate logins', async (t) => {
  const files = await devCertificates()
  const ca = readFileSync(files.ca)
  const https = createHttpsServer({
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    ca,
    requestCert: true,
    rejectUnauthorized: false,
  })
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    https.closeAllConnections()
    https.close()
  })
  const port = (https.address() as AddressInfo).port
  const w = await startSecureWharf(t, {
    anonymous: false,
    httpsServer: https,
    acls: [denyRead('User:bob', 'secret/#')],
  })
  assert.ok(w.listener.urls.includes(`wss://127.0.0.1:${port}/mqtt`), w.listener.urls.join(' '))
  const url = `wss://127.0.0.1:${port}/mqtt`

  assert.equal(await refusalCode(t, url, { ca, protocolVersion: 5, username: 'bob', password: 'nope' }), 0x86)
  assert.equal(await refusalCode(t, url, { ca, protocolVersion: 4 }), 0x05)
  const bob = await connectTo(t, url, {
    ca,
    protocolVersion: 5,
    username: 'bob',
    password: 'bob-pw',
    clientId: 'wss-pw',
  })
  const inbox = collect(bob)
  assert.deepEqual(await subackCodes(bob, ['secret/#', 'wss/#']), [0x87, 1])
  await bob.publishAsync('wss/hello', 'over wss', { qos: 1 })
  assert.equal((await inbox.next(1))[0]?.payload.toString(), 'over wss')

  const { cert, key } = files.clients.client!
  const byCert = await connectTo(t, url, { ca, cert: readFileSync(cert), key: readFileSync(key), clientId: 'wss-cert' })
  assert.deepEqual(await subackCodes(byCert, ['secret/#']), [1], 'CN=client is not bob')
  const info = w.listener.connections.list().find((c) => c.clientId === 'wss-cert')
  assert.deepEqual([info?.user, info?.tls], ['client', true])
  assert.match(info?.remoteAddress ?? '', /\(WebSocket\)$/)
})
