// The security settings as a user writes them: the config contract, the same keys from WHARF_*
// variables and flags, and a server that refuses to listen off loopback when nobody could log in.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/server/config.ts'
import { denyBobWrite } from '../fixtures/acls.ts'
import { freePort, spawnWharf } from '../fixtures/wharf-process.ts'

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-security-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const contract = {
  anonymous: false,
  users: [
    {
      name: 'alice',
      password: 'alice-pw',
      tags: ['administrator'],
      accessKeys: [{ id: 'AKIDALICE', secret: 'alice-aws-secret' }],
    },
    { name: 'bob', password: 'bob-pw' },
  ],
  acls: [denyBobWrite('payments')],
  tls: { certFile: 'server.pem', keyFile: 'server-key.pem', caFile: 'ca.pem', clientAuth: 'none' },
  kafkaTlsPort: 9093,
  amqpTlsPort: 5671,
  mqttTlsPort: 8883,
  httpsPort: 8443,
}

test('the config contract of the issue loads; certificate paths are relative to the config file', (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'wharf.json')
  writeFileSync(file, JSON.stringify(contract))
  const config = loadConfig({ configFile: file, env: {}, cwd: '/elsewhere' })
  assert.equal(config.anonymous, false)
  assert.deepEqual(config.users, contract.users)
  assert.deepEqual(config.acls, contract.acls)
  assert.equal(config.tlsCertFile, join(dir, 'server.pem'))
  assert.equal(config.tlsKeyFile, join(dir, 'server-key.pem'))
  assert.equal(config.tlsCaFile, join(dir, 'ca.pem'))
  assert.equal(config.tlsClientAuth, 'none')
  assert.deepEqual(
    [config.kafkaTlsPort, config.amqpTlsPort, config.mqttTlsPort, config.httpsPort],
    [9093, 5671, 8883, 8443],
  )
})

test('every security key has a WHARF_* variable and a flag', () => {
  const config = loadConfig({
    env: {
      WHARF_ANONYMOUS: 'true',
      WHARF_USERS: JSON.stringify([{ name: 'carol', password: 'c' }]),
      WHARF_ACLS: '[]',
      WHARF_TLS_CERT_FILE: 'a.pem',
      WHARF_TLS_KEY_FILE: 'a-key.pem',
      WHARF_TLS_CLIENT_AUTH: 'require',
      WHARF_DEFAULT_PERMISSION: 'deny',
      WHARF_PUBLIC_METRICS: 'false',
    },
    flags: { httpsPort: 9443, anonymous: 'auto' },
    cwd: '/srv',
  })
  assert.equal(config.anonymous, 'auto', 'a flag beats the variable')
  assert.deepEqual(config.users, [{ name: 'carol', password: 'c' }])
  assert.equal(config.tlsCertFile, '/srv/a.pem')
  assert.equal(config.tlsClientAuth, 'require')
  assert.equal(config.defaultPermission, 'deny')
  assert.equal(config.publicMetrics, false)
  assert.equal(config.httpsPort, 9443)
})

test('bad security values are refused with the key named', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ WHARF_ANONYMOUS: 'maybe' }, /WHARF_ANONYMOUS must be true or false or auto/],
    [{ WHARF_DEFAULT_PERMISSION: 'sometimes' }, /WHARF_DEFAULT_PERMISSION must be one of allow, deny/],
    [{ WHARF_TLS_CLIENT_AUTH: 'always' }, /WHARF_TLS_CLIENT_AUTH must be one of none, request, require/],
    [{ WHARF_USERS: '{"name":"x"}' }, /WHARF_USERS must be an array of objects/],
    [{ WHARF_USERS: 'not json' }, /WHARF_USERS must be a JSON array/],
    [
      { WHARF_TLS_CERT_FILE: 'only-cert.pem' },
      /TLS needs both a certificate and a key: --tls-cert-file and --tls-key-file/,
    ],
  ]
  for (const [env, message] of bad) assert.throws(() => loadConfig({ env }), message)
})

test('off loopback with no user who can log in, the server refuses to start and says what to set', async (t) => {
  const dir = tempDir(t)
  const wharf = spawnWharf(['--data-dir', dir, '--host', '0.0.0.0', '--http-port', String(await freePort())])
  t.after(() => wharf.proc.kill('SIGKILL'))
  const code = await wharf.exit
  assert.notEqual(code, 0)
  assert.match(wharf.output(), /no user who can log in from the network/)
  assert.match(wharf.output(), /"users"/)
  assert.match(wharf.output(), /"anonymous": true/)
})

test('off loopback with a configured user, the server starts with anonymous access off', async (t) => {
  const dir = tempDir(t)
  const port = await freePort()
  const wharf = spawnWharf(['--data-dir', dir, '--host', '0.0.0.0', '--http-port', String(port)], {
    WHARF_USERS: JSON.stringify([{ name: 'alice', password: 'alice-pw', tags: ['administrator'] }]),
  })
  t.after(() => wharf.proc.kill('SIGKILL'))
  await wharf.ready
  assert.doesNotMatch(wharf.output(), /no user who can log in/)
})
