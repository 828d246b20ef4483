// HTTPS on the TLS port: the same app as the HTTP port, TLS 1.2+ only (openssl s_client), the chain verifies
// against the development CA, Node's fetch over https with Basic credentials, and a certificate reload
// (SIGHUP's path) that the HTTPS server picks up without a restart, in-process and in a `wharf start` child.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { makeDevCertificates } from '../../../../src/cli/certs.ts'
import { TlsCredentials } from '../../../../src/protocols/common/tls.ts'
import { devCertificates } from '../../../fixtures/tls.ts'
import { freePort, spawnWharf } from '../../../fixtures/wharf-process.ts'
import { as, startSecureHarness } from './security-harness.ts'

function run(
  file: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { ...process.env, ...options.env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
    child.stdin?.end(options.input ?? '')
  })
}

function sClient(port: number, ca: string, ...extra: string[]) {
  return run('openssl', [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    'localhost',
    '-CAfile',
    ca,
    ...extra,
  ])
}

/** Node's own fetch in a child process (the trusted CA is fixed at process start: NODE_EXTRA_CA_CERTS). */
function fetchIn(
  url: string,
  headers: Record<string, string>,
  ca?: string,
  init: { method?: string; body?: string } = {},
) {
  const script = `fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)}, ...${JSON.stringify(init)} })
    .then(async (r) => console.log(JSON.stringify({ status: r.status, cookie: r.headers.get('set-cookie'), body: await r.text() })))
    .catch((e) => { console.log(JSON.stringify({ error: String(e.cause?.code ?? e.message) })) })`
  return run(process.execPath, ['-e', script], { env: ca ? { NODE_EXTRA_CA_CERTS: ca } : {} })
}

async function httpsPort(listener: { httpsServer?: { address(): unknown } }): Promise<number> {
  const address = listener.httpsServer?.address() as { port: number } | null
  assert.ok(address, 'the listener exposes its HTTPS server')
  return address.port
}

test('HTTPS: TLS 1.2 and 1.3 with a chain that verifies, TLS 1.1 refused, fetch with Basic over https', async (t) => {
  const files = await devCertificates()
  const credentials = new TlsCredentials({
    certFile: files.cert,
    keyFile: files.key,
    caFile: files.ca,
    clientAuth: 'none',
  })
  const { listener } = await startSecureHarness(t, { tls: { port: 0, credentials } })
  const port = await httpsPort(listener)
  assert.ok(
    listener.urls.some((u) => u.startsWith(`https://127.0.0.1:${port}/`)),
    listener.urls.join('\n'),
  )

  const v12 = await sClient(port, files.ca, '-tls1_2')
  assert.match(v12.stdout, /Protocol\s*: TLSv1\.2/)
  assert.match(v12.stdout, /Verify return code: 0 \(ok\)/)
  const v13 = await sClient(port, files.ca, '-tls1_3')
  assert.match(v13.stdout, /TLSv1\.3/)
  assert.match(v13.stdout, /Verify return code: 0 \(ok\)/)
  // OpenSSL 3 itself refuses TLS 1.1 at its default security level; level 0 lets it try, and the server says no.
  const v11 = await sClient(port, files.ca, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0')
  assert.notEqual(v11.code, 0)
  assert.match(v11.stdout, /no peer certificate available/)
  assert.match(v11.stdout, /Cipher is \(NONE\)/)
  assert.match(`${v11.stdout}${v11.stderr}`, /alert protocol version|unsupported protocol|no protocols available/i)

  const url = `https://localhost:${port}/api/v1/streams`
  const trusted = JSON.parse((await fetchIn(url, { authorization: as('alice') }, files.ca)).stdout)
  assert.equal(trusted.status, 200)
  assert.equal(JSON.parse(trusted.body).total, 0)
  const noCredentials = JSON.parse((await fetchIn(url, {}, files.ca)).stdout)
  assert.equal(noCredentials.status, 401)
  // A dashboard login over HTTPS gets a cookie the browser will only send back over HTTPS.
  const login = JSON.parse(
    (
      await fetchIn(`https://localhost:${port}/api/v1/session`, { 'content-type': 'application/json' }, files.ca, {
        method: 'POST',
        body: JSON.stringify({ user: 'alice', password: 'alice-pw' }),
      })
    ).stdout,
  )
  assert.equal(login.status, 200)
  assert.match(
    login.cookie,
    /^wharf_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/,
  )
  // Without the development CA the chain does not verify and fetch refuses the server.
  const untrusted = JSON.parse((await fetchIn(url, { authorization: as('alice') })).stdout)
  assert.match(untrusted.error, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i)
})

test('HTTPS: a certificate reload applies to new connections without a restart', async (t) => {
  const files = await devCertificates()
  const dir = mkdtempSync(join(tmpdir(), 'wharf-https-reload-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const cert = join(dir, 'server.pem')
  const key = join(dir, 'server-key.pem')
  copyFileSync(files.cert, cert)
  copyFileSync(files.key, key)
  const credentials = new TlsCredentials({ certFile: cert, keyFile: key, clientAuth: 'none' })
  const { listener } = await startSecureHarness(t, { tls: { port: 0, credentials } })
  const port = await httpsPort(listener)
  assert.match((await sClient(port, files.ca)).stdout, /Verify return code: 0 \(ok\)/)

  // A new CA and server certificate in place of the old files, then the reload SIGHUP triggers.
  const renewed = await makeDevCertificates(join(dir, 'renewed'), { clients: [] })
  copyFileSync(renewed.cert, cert)
  copyFileSync(renewed.key, key)
  credentials.reload()
  assert.match((await sClient(port, renewed.ca)).stdout, /Verify return code: 0 \(ok\)/)
  assert.doesNotMatch((await sClient(port, files.ca)).stdout, /Verify return code: 0 \(ok\)/)
})

test('wharf start with TLS: the banner lists the https URL, publicMetrics false, SIGHUP reloads the certificate', {
  timeout: 60_000,
}, async (t) => {
  const files = await devCertificates()
  const dir = mkdtempSync(join(tmpdir(), 'wharf-https-server-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const cert = join(dir, 'server.pem')
  const key = join(dir, 'server-key.pem')
  copyFileSync(files.cert, cert)
  copyFileSync(files.key, key)
  const [httpPort, port] = [await freePort(), await freePort()]
  const wharf = spawnWharf([
    ...['--data-dir', join(dir, 'data'), '--http-port', String(httpPort), '--https-port', String(port)],
    ...['--tls-cert-file', cert, '--tls-key-file', key, '--public-metrics', 'false', '--anonymous', 'false'],
    ...['--users', JSON.stringify([{ name: 'alice', password: 'alice-pw', tags: ['administrator'] }])],
  ])
  t.after(async () => {
    wharf.proc.kill('SIGKILL')
    await wharf.exit
  })
  await wharf.ready
  assert.match(wharf.output(), new RegExp(`https://127\\.0\\.0\\.1:${port}/`))

  const url = `https://localhost:${port}/metrics`
  assert.equal(JSON.parse((await fetchIn(url, {}, files.ca)).stdout).status, 401)
  assert.equal(JSON.parse((await fetchIn(url, { authorization: as('alice') }, files.ca)).stdout).status, 200)

  const renewed = await makeDevCertificates(join(dir, 'renewed'), { clients: [] })
  copyFileSync(renewed.cert, cert)
  copyFileSync(renewed.key, key)
  wharf.proc.kill('SIGHUP')
  while (!wharf.output().includes('TLS certificates reloaded')) await new Promise((r) => setTimeout(r, 50))
  assert.match((await sClient(port, renewed.ca)).stdout, /Verify return code: 0 \(ok\)/)
  assert.equal(JSON.parse((await fetchIn(url, { authorization: as('alice') }, renewed.ca)).stdout).status, 200)
})
