// connectionsMax bounds the HTTP listener as a whole: its HTTP and HTTPS ports share one budget, as the TCP
// listeners' plain and TLS ports do. Seen from curl on each port while raw sockets hold the places.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import net from 'node:net'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { devCertificates, devCredentials } from '../../../fixtures/tls.ts'
import { startHarness } from '../helpers.ts'

const run = promisify(execFile)

/** curl's HTTP status for /healthz, or 'refused' when the connection was dropped. */
async function curl(url: string, ca: string): Promise<string> {
  try {
    const { stdout } = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '5',
      '--cacert',
      ca,
      url,
    ])
    return stdout
  } catch {
    return 'refused'
  }
}

async function hold(port: number, sockets: net.Socket[]): Promise<void> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  sockets.push(socket)
  await new Promise<void>((resolve) => socket.once('connect', resolve))
}

test('connectionsMax counts the HTTP and HTTPS ports together', { timeout: 30_000 }, async (t) => {
  const { listener } = await startHarness(t, undefined, undefined, {
    connectionsMax: 3,
    tls: { port: 0, credentials: await devCredentials() },
  })
  const sockets: net.Socket[] = []
  const { ca } = await devCertificates()
  const address = listener.httpsServer?.address()
  assert.ok(address !== null && typeof address === 'object')
  const http = `http://127.0.0.1:${listener.port}/healthz`
  const https = `https://localhost:${address.port}/healthz`
  assert.equal(await curl(https, ca), '200')

  // Two places taken on the plain port, one on the TLS port: the listener is full.
  await hold(listener.port, sockets)
  await hold(listener.port, sockets)
  await hold(address.port, sockets)
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(await curl(https, ca), 'refused', 'the HTTPS port has no place of its own')
  assert.equal(await curl(http, ca), 'refused', 'nor the HTTP port')

  sockets.shift()?.destroy()
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(await curl(https, ca), '200', 'a closed socket on the other port frees a place')
  for (const socket of sockets) socket.destroy()
})
