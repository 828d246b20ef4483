// Slowloris on the HTTP listener: a request whose headers or body trickle in is cut off by the configured
// header and request deadlines instead of holding its socket (and buffer) for as long as the client likes.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import mqtt from 'mqtt'
import { startHttpListener } from '../../../../src/protocols/http/listener.ts'
import { startMqttListener } from '../../../../src/protocols/mqtt/index.ts'
import { loadConfig } from '../../../../src/server/config.ts'
import { silentLogger } from '../../../../src/util/logger.ts'
import { createTestBroker } from '../../../fixtures/test-storage.ts'

async function start(t: TestContext): Promise<number> {
  return (await startWith(t)).listener.port
}

async function startWith(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-slowloris-'))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const listener = await startHttpListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    config: { httpHeadersTimeoutMs: 500, httpRequestTimeoutMs: 1000 },
  })
  t.after(async () => {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { broker, listener }
}

/**
 * Sends `head` at once, then `drip` one byte per `everyMs` until the server closes the socket or `giveUpMs`
 * passes. Returns how many drip bytes went out before the close (undefined: never closed) and the reply.
 */
function trickle(
  port: number,
  head: string,
  drip: string,
  everyMs: number,
  giveUpMs: number,
): Promise<{ dripped: number | undefined; reply: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let dripped = 0
    let reply = ''
    let timer: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => finish(undefined), giveUpMs)
    const finish = (n: number | undefined) => {
      clearInterval(timer)
      clearTimeout(giveUp)
      socket.destroy()
      resolve({ dripped: n, reply })
    }
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1')
    })
    socket.on('error', () => {})
    socket.on('close', () => finish(dripped))
    socket.on('connect', () => {
      socket.write(head)
      timer = setInterval(() => {
        if (dripped < drip.length && !socket.destroyed) socket.write(drip[dripped++]!)
      }, everyMs)
    })
  })
}

test('a body that trickles in (one byte a second) is cut off at the request deadline', async (t) => {
  const port = await start(t)
  const body = JSON.stringify({ name: 'slow', config: {} }).padEnd(200, ' ')
  const head = `POST /api/v1/queues HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
  // Without the deadline the socket stays open for the whole drip (200 s); the bound only fails a hang.
  const { dripped, reply } = await trickle(port, head, body, 1000, 20_000)
  assert.notEqual(dripped, undefined, 'the server closed the connection')
  assert.ok(dripped! < 10, `closed after ${dripped} body bytes`)
  assert.match(reply, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout')
})

test('headers that trickle in are cut off at the header deadline', async (t) => {
  const port = await start(t)
  const head = 'GET /healthz HTTP/1.1\r\nHost: x\r\n'
  const { dripped } = await trickle(port, head, 'X-Slow: '.padEnd(200, 'a'), 100, 20_000)
  assert.notEqual(dripped, undefined, 'the server closed the connection')
  assert.ok(dripped! < 60, `closed after ${dripped} header bytes`)
})

test('an MQTT WebSocket outlives the request and keep-alive deadlines (they bound requests, not upgrades)', async (t) => {
  const { broker, listener } = await startWith(t)
  const mqttListener = await startMqttListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    started: new Map([['http', listener]]),
  })
  // Closed here, before the HTTP listener the start registered: an open WebSocket would hold its close.
  try {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${listener.port}/mqtt`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      keepalive: 0,
    })
    try {
      const got = new Promise<string>((resolve) =>
        client.on('message', (_topic, payload) => resolve(payload.toString())),
      )
      await client.subscribeAsync({ 'ws/#': { qos: 1 } })
      await new Promise((resolve) => setTimeout(resolve, 2500))
      await client.publishAsync('ws/x', 'still here', { qos: 1 })
      assert.equal(await got, 'still here')
    } finally {
      client.end(true)
    }
  } finally {
    await mqttListener.close()
  }
})

test('an oversized body is refused (413) before it is read, and its connection closed', async (t) => {
  // Default deadlines: the close must come from the refusal, not from a time-out.
  const dir = mkdtempSync(join(tmpdir(), 'wharf-413-'))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const listener = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  t.after(async () => {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const head = `POST /api/v1/queues HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`
  const { dripped, reply } = await trickle(listener.port, head, 'x'.repeat(100), 100, 10_000)
  assert.match(reply, /^HTTP\/1\.1 413/)
  assert.notEqual(dripped, undefined, 'the server closed the connection instead of reading the 64 MiB')
})

test('HTTP time-outs are config keys (flag, environment, file)', () => {
  const config = loadConfig({ env: {} })
  assert.deepEqual(
    [config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs, config.httpKeepAliveTimeoutMs],
    [20_000, 60_000, 5_000],
  )
  assert.equal(loadConfig({ env: { WHARF_HTTP_REQUEST_TIMEOUT_MS: '1500' } }).httpRequestTimeoutMs, 1500)
  assert.throws(
    () => loadConfig({ env: { WHARF_HTTP_HEADERS_TIMEOUT_MS: '0' } }),
    /WHARF_HTTP_HEADERS_TIMEOUT_MS must be/,
  )
})
