// STOMP transports and failure paths over real sockets: stompjs over WebSocket (/stomp, subprotocol
// v12.stomp) and the cross-origin rule, stomp.py over TLS (61614's role) with the development CA, a
// malformed and an oversized frame answered by ERROR (read by stomp.py and a raw socket), a client that
// stops its heart-beats closed, and a receipted SEND that survives a broker restart.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import WebSocket from 'ws'
import { devCertificates } from '../../fixtures/tls.ts'
import { collector, sendWithReceipt, startWharf, stompjs, stompPy } from './helpers.ts'

test('stompjs over WebSocket at /stomp: CONNECTED 1.2, SEND and MESSAGE', async (t) => {
  const w = await startWharf(t, { webSocket: true })
  const client = await stompjs(t, w, { ws: true })
  assert.equal(client.connectedVersion, '1.2')
  const got = collector()
  client.subscribe('/queue/ws', got.onMessage)
  await sendWithReceipt(client, '/queue/ws', 'over websocket')
  assert.equal((await got.next(1))[0]!.body, 'over websocket')
  const [info] = w.listener.connections.list()
  assert.match(info!.remoteAddress, /WebSocket/)
})

test('STOMP over WebSocket from a page of another origin: anonymous refused, a login accepted', async (t) => {
  const w = await startWharf(t, { webSocket: true })
  const frames = async (headers: string) => {
    const ws = new WebSocket(w.wsUrl, ['v12.stomp'], { headers: { origin: 'https://evil.example' } })
    t.after(() => ws.terminate())
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    ws.send(`CONNECT\naccept-version:1.2\nhost:/\n${headers}\n\0`)
    return new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))))
  }
  assert.match(await frames(''), /^ERROR\n[\s\S]*message:Bad credentials/)
  assert.match(await frames('login:bob\npasscode:bob-pw\n'), /^CONNECTED\n/)
})

const pyTls = `
import os, ssl, stomp, sys
conn = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
conn.set_ssl(for_hosts=[('127.0.0.1', int(os.environ['PORT']))], ca_certs=os.environ['CA'])
class L(stomp.ConnectionListener):
    def __init__(self): self.messages = []
    def on_message(self, frame): self.messages.append(frame)
l = L()
conn.set_listener('l', l)
conn.connect('bob', 'bob-pw', wait=True)
conn.subscribe('/queue/secure', id='s', ack='client-individual')
conn.send('/queue/secure', 'over tls', receipt='r')
import time
for _ in range(400):
    if l.messages: break
    time.sleep(0.05)
m = l.messages[0]
conn.ack(m.headers['ack'])
print('BODY', m.body)
conn.disconnect(receipt='bye')
`

/**
 * stomp.py reads its socket in a receiver thread while the main thread writes CONNECT, and CPython's ssl does not
 * serialise the two on one SSL object: now and then the CONNECT never reaches the server (the server then closes
 * the connection after connectTimeoutMs, and stomp.py raises ConnectFailedException). Reproduced without stomp.py
 * or Wharf's STOMP code: plain Python TLS connections writing while another thread reads lost their first write in
 * 5 of 150 tries on a loaded machine, single-threaded ones in 0 of 150. So that one failure gets a second
 * connection; every other failure fails the test at once.
 */
async function stompPyOverTls(script: string, env: Record<string, string>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await stompPy(script, env)
    } catch (error) {
      if (attempt === 3 || !/ConnectFailedException/.test(String(error))) throw error
    }
  }
}

test('stomp.py over TLS with the CA: login, SEND, MESSAGE, ACK', async (t) => {
  const files = await devCertificates()
  const w = await startWharf(t, { tls: 'none', anonymous: false })
  assert.ok(w.tlsPort > 0)
  const { stdout } = await stompPyOverTls(pyTls, { PORT: String(w.tlsPort), CA: files.ca })
  assert.match(stdout, /BODY over tls/)
  assert.equal(w.listener.connections.list().length, 0)
})

/** Writes raw bytes after a CONNECT and resolves with everything read until the server closes. */
function raw(
  port: number,
  bytes: Buffer | string,
  connect = 'CONNECT\naccept-version:1.2\nhost:/\n\n\0',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let out = ''
    socket.on('data', (d) => {
      out += d.toString('latin1')
    })
    socket.on('close', () => resolve(out))
    socket.on('error', reject)
    socket.setTimeout(10_000, () => {
      socket.destroy()
      reject(new Error(`no close; got ${JSON.stringify(out)}`))
    })
    socket.write(connect)
    socket.write(bytes)
  })
}

test('a malformed frame gets ERROR with a message header, then the connection closes', async (t) => {
  const w = await startWharf(t)
  const cases: Array<[string, RegExp]> = [
    ['SEND\ndestination:/queue/x\nbad header line\n\nbody\0', /message:malformed header line/],
    ['FROB\n\n\0', /message:unknown command 'FROB'/],
    ['SEND\ndestination:/queue/x\nk:bad\\escape\n\n\0', /message:invalid escape sequence/],
    ['SEND\ndestination:/queue/x\ncontent-length:3\n\nabcd\0', /message:frame not terminated by NUL/],
    ['SEND\ndestination:/nowhere/x\n\n\0', /message:unknown destination/],
    ['ACK\nid:nope\n\n\0', /message:ACK of an unknown or settled message/],
  ]
  for (const [frame, expected] of cases) {
    const out = await raw(w.port, frame)
    assert.match(out, /^CONNECTED\n/)
    assert.ok(out.includes('\u0000ERROR\n'), frame)
    assert.match(out, expected)
  }
  // The broker is fine: a real client still works.
  const client = await stompjs(t, w)
  await sendWithReceipt(client, '/queue/after', 'still here')
})

test('an oversized frame, header and too many headers get ERROR; stomp.py sees the ERROR', async (t) => {
  const w = await startWharf(t, {
    limits: { bodyBytesMax: 1024, frameBytesMax: 4096, headerBytesMax: 256, headersMax: 8 },
  })
  assert.match(await raw(w.port, `SEND\ndestination:/queue/x\n\n${'x'.repeat(2000)}\0`), /message:body too large/)
  assert.match(await raw(w.port, `SEND\ndestination:/queue/x\ncontent-length:999999\n\n`), /message:body too large/)
  assert.match(
    await raw(w.port, `SEND\ndestination:/queue/x\nk:${'v'.repeat(300)}\n\n\0`),
    /message:header line too long/,
  )
  const many = Array.from({ length: 20 }, (_, i) => `h${i}:v`).join('\n')
  assert.match(await raw(w.port, `SEND\ndestination:/queue/x\n${many}\n\n\0`), /message:too many headers/)
  const { stdout } = await stompPy(
    `
import os, stomp, time
conn = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
class L(stomp.ConnectionListener):
    def __init__(self): self.errors = []
    def on_error(self, frame): self.errors.append(frame.headers.get('message'))
l = L()
conn.set_listener('l', l)
conn.connect(wait=True)
conn.send('/queue/big', 'x' * 5000)
for _ in range(400):
    if l.errors: break
    time.sleep(0.05)
print('ERRORS', l.errors)
`,
    { PORT: String(w.port) },
  )
  assert.match(stdout, /ERRORS \['body too large/)
})

test('heart-beats: the server sends its own, and closes a client that goes silent past the grace', async (t) => {
  const w = await startWharf(t)
  const started = Date.now()
  const out = await raw(w.port, '', 'CONNECT\naccept-version:1.2\nhost:/\nheart-beat:200,100\n\n\0')
  const elapsed = Date.now() - started
  assert.match(out, /heart-beat:100,200/)
  assert.match(out, /\nERROR\n[\s\S]*message:heart-beat timeout/)
  // At least the negotiated 200 ms times the grace factor 2 passed; heart-beat EOLs came in between.
  assert.ok(elapsed >= 400, `closed after ${elapsed} ms`)
  assert.match(out.slice(out.indexOf('\0') + 1), /^\n+ERROR/)
})

test('a receipted SEND survives a broker restart', async (t) => {
  const first = await startWharf(t, { durability: 'always' })
  const producer = await stompjs(t, first)
  await sendWithReceipt(producer, '/queue/durable', 'kept across restart', { persistent: 'true' })
  await producer.deactivate({ force: true })
  await first.stop()
  const second = await startWharf(t, { dir: first.dir, durability: 'always' })
  const consumer = await stompjs(t, second)
  const got = collector()
  consumer.subscribe('/queue/durable', got.onMessage, { ack: 'client-individual' })
  const [m] = await got.next(1)
  assert.equal(m!.body, 'kept across restart')
  assert.equal(m!.headers.persistent, 'true')
})
