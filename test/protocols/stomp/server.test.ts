// `wharf start --stomp-port P --http-port H` as a child process: the server starts the STOMP listener from its
// config, serves STOMP over WebSocket at /stomp on the HTTP port, and the admin API lists STOMP connections.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { collector, sendWithReceipt, stompjs } from './helpers.ts'

test('wharf start with --stomp-port: STOMP over TCP and over WebSocket on the HTTP port meet on one queue', async (t) => {
  const { ports } = await startSpawned(t, ['stomp', 'http'])
  const tcp = await stompjs(t, { port: ports.stomp })
  const ws = await stompjs(t, { port: 0, wsUrl: `ws://127.0.0.1:${ports.http}/stomp` }, { ws: true })
  const got = collector()
  ws.subscribe('/queue/spawned', got.onMessage)
  await new Promise((r) => setTimeout(r, 100))
  await sendWithReceipt(tcp, '/queue/spawned', 'through the server')
  assert.equal((await got.next(1))[0]!.body, 'through the server')
  const response = await fetch(`http://127.0.0.1:${ports.http}/api/v1/connections?protocol=stomp`)
  const { items } = (await response.json()) as { items: Array<{ protocol: string; remoteAddress: string }> }
  assert.equal(items.length, 2)
  assert.equal(items.filter((c) => c.remoteAddress.endsWith('(WebSocket)')).length, 1)
})
