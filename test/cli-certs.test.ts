// `wharf certs dev DIR`: the files a user needs to try TLS, and a chain that openssl verifies for the host
// names and the client-authentication purpose.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const cli = new URL('./fixtures/wharf-cli.ts', import.meta.url).pathname

test('wharf certs dev makes a CA, a server certificate for localhost and client certificates that openssl verifies', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-certs-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', cli, 'certs', 'dev', dir, '--client', 'alice', 'bob', '--host', 'broker.example'],
    {
      encoding: 'utf8',
    },
  )
  assert.match(
    out,
    /wharf start --tls-cert-file .*server\.pem --tls-key-file .*server-key\.pem --tls-ca-file .*ca\.pem/,
  )
  for (const file of ['ca.pem', 'server.pem', 'alice.pem', 'bob.pem'])
    assert.ok(statSync(join(dir, file)).size > 0, `${file} written`)
  for (const key of ['ca-key.pem', 'server-key.pem', 'alice-key.pem'])
    assert.equal(statSync(join(dir, key)).mode & 0o077, 0, `${key} is readable by its owner only`)
  const verify = (...args: string[]) =>
    spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), ...args], { encoding: 'utf8' })
  for (const host of ['localhost', 'broker.example']) {
    const r = verify('-purpose', 'sslserver', '-verify_hostname', host, join(dir, 'server.pem'))
    assert.equal(r.status, 0, r.stdout + r.stderr)
  }
  assert.equal(verify('-purpose', 'sslserver', '-verify_ip', '127.0.0.1', join(dir, 'server.pem')).status, 0)
  assert.notEqual(
    verify('-purpose', 'sslserver', '-verify_hostname', 'other.example', join(dir, 'server.pem')).status,
    0,
  )
  assert.equal(verify('-purpose', 'sslclient', join(dir, 'alice.pem')).status, 0)
  const subject = execFileSync('openssl', ['x509', '-in', join(dir, 'alice.pem'), '-noout', '-subject'], {
    encoding: 'utf8',
  })
  assert.match(subject, /CN ?= ?alice/)
})
