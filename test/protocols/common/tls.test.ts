// The TLS part of the adapter kit, under a minimal line-echo adapter: TLS 1.2+ only, the chain verifies
// against the development CA, client certificates by mode, and a certificate reload that new connections
// see while open ones keep going.
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import tls from 'node:tls'
import { makeDevCertificates } from '../../../src/cli/certs.ts'
import { acceptTls, type ListenerContext } from '../../../src/protocols/common/listener.ts'
import { type ClientAuth, peerCertificateSubject, TlsCredentials } from '../../../src/protocols/common/tls.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { devCertificates } from '../../fixtures/tls.ts'

/** An echo listener that answers each line with the client certificate's CN (or "-"). */
async function echoServer(t: TestContext, credentials: TlsCredentials): Promise<number> {
  const sockets = new Set<net.Socket>()
  const context = { host: '127.0.0.1', port: 0, logger: silentLogger, tls: { port: 0, credentials } }
  const listener = await acceptTls(context as unknown as ListenerContext, { size: 0, protocol: 'echo' }, (socket) => {
    sockets.add(socket)
    socket.on('data', () => socket.write(`${peerCertificateSubject(socket)?.commonName ?? '-'}\n`))
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  })
  assert.ok(listener)
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    await listener.close()
  })
  return listener.port
}

function connect(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => resolve(socket))
    socket.once('error', reject)
  })
}

function ask(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (d) => resolve(d.toString().trim()))
    socket.once('close', () => reject(new Error('closed')))
    socket.write('?\n')
  })
}

async function credentials(clientAuth: ClientAuth): Promise<TlsCredentials> {
  const files = await devCertificates()
  return new TlsCredentials({ certFile: files.cert, keyFile: files.key, caFile: files.ca, clientAuth })
}

test('TLS 1.2 and 1.3 are served, TLS 1.1 is refused, and the chain verifies against the CA', async (t) => {
  const files = await devCertificates()
  const port = await echoServer(t, await credentials('none'))
  const ca = readFileSync(files.ca)
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const socket = await connect(port, { ca, minVersion: version, maxVersion: version })
    assert.equal(socket.getProtocol(), version)
    assert.equal(socket.authorized, true)
    assert.equal(await ask(socket), '-')
    socket.destroy()
  }
  await assert.rejects(
    connect(port, { ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
  )
  await assert.rejects(
    connect(port, {}),
    /self-signed|unable to verify|UNABLE_TO_GET_ISSUER/,
    'an unknown CA is refused by the client',
  )
})

test('client certificates: require refuses a client without one; request names the CN of a verified one', async (t) => {
  const files = await devCertificates()
  const ca = readFileSync(files.ca)
  const alice = { cert: readFileSync(files.clients.alice!.cert), key: readFileSync(files.clients.alice!.key) }
  const required = await echoServer(t, await credentials('require'))
  const refused = await connect(required, { ca }).then(
    (socket) =>
      ask(socket).then(
        () => 'answered',
        () => 'closed',
      ),
    () => 'closed',
  )
  assert.equal(refused, 'closed')
  const withCert = await connect(required, { ca, ...alice })
  assert.equal(await ask(withCert), 'alice')
  withCert.destroy()

  const requested = await echoServer(t, await credentials('request'))
  const anonymous = await connect(requested, { ca })
  assert.equal(await ask(anonymous), '-', 'no certificate: no identity, still connected')
  anonymous.destroy()
  const named = await connect(requested, { ca, ...alice })
  assert.equal(await ask(named), 'alice')
  named.destroy()
})

test('reload swaps the certificate for new connections without dropping open ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-reload-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const first = await makeDevCertificates(join(dir, 'first'), { clients: [] })
  const second = await makeDevCertificates(join(dir, 'second'), { clients: [] })
  const live = { cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') }
  copyFileSync(first.cert, live.cert)
  copyFileSync(first.key, live.key)
  const creds = new TlsCredentials({ certFile: live.cert, keyFile: live.key, clientAuth: 'none' })
  const port = await echoServer(t, creds)
  const open = await connect(port, { ca: readFileSync(first.ca) })
  copyFileSync(second.cert, live.cert)
  copyFileSync(second.key, live.key)
  creds.reload()
  assert.equal(await ask(open), '-', 'the open connection still works')
  open.destroy()
  await assert.rejects(connect(port, { ca: readFileSync(first.ca) }), 'the old CA no longer verifies new connections')
  const fresh = await connect(port, { ca: readFileSync(second.ca) })
  assert.equal(fresh.authorized, true)
  fresh.destroy()

  copyFileSync(first.ca, live.key) // not a key: reload fails and keeps the current certificate
  assert.throws(() => creds.reload(), /TLS certificate\/key/)
  const still = await connect(port, { ca: readFileSync(second.ca) })
  assert.equal(still.authorized, true)
  still.destroy()
})

test('bad TLS settings fail at start with the file named', async () => {
  const files = await devCertificates()
  assert.throws(
    () => new TlsCredentials({ certFile: '/nonexistent.pem', keyFile: files.key, clientAuth: 'none' }),
    /certificate file \/nonexistent\.pem/,
  )
  assert.throws(
    () => new TlsCredentials({ certFile: files.cert, keyFile: files.key, clientAuth: 'require' }),
    /needs tlsCaFile/,
  )
})

test('connectionsPerAddressMax holds on the TLS port before the handshake: a silent socket beyond it is dropped', async (t) => {
  const accepted: net.Socket[] = []
  const context = {
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    connectionsPerAddressMax: 1,
    tls: { port: 0, credentials: await credentials('none') },
  }
  const listener = await acceptTls(context as unknown as ListenerContext, { size: 0, protocol: 'echo' }, (socket) => {
    accepted.push(socket)
    socket.on('error', () => {})
  })
  const raw: net.Socket[] = []
  t.after(async () => {
    for (const socket of [...raw, ...accepted]) socket.destroy()
    await listener?.close()
  })
  const connect = () => {
    const socket = net.connect(listener!.port, '127.0.0.1')
    socket.on('error', () => {})
    raw.push(socket)
    return socket
  }
  const first = connect()
  await new Promise((resolve) => first.once('connect', resolve))
  // No handshake on either: the second is refused for its address alone.
  const second = connect()
  const dropped = await new Promise((resolve) => {
    second.once('close', () => resolve(true))
    setTimeout(() => resolve(false), 1000)
  })
  assert.equal(dropped, true)
  first.destroy()
  await new Promise((resolve) => setTimeout(resolve, 100))
  // Its place is free again: a real client gets through the handshake.
  const client = tls.connect({ port: listener!.port, host: '127.0.0.1', rejectUnauthorized: false })
  client.on('error', () => {})
  raw.push(client)
  await new Promise((resolve) => client.once('secureConnect', resolve))
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.equal(accepted.length, 1)
})
