// connectionsPerAddressMax: one source address (loopback counts too) holds at most that many connections of a
// listener; the socket beyond is dropped at accept, other listeners are not affected, and a closed socket
// frees its place. The HTTP listener's sockets (node:http's) count the same way.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import type { Broker } from '../../../src/index.ts'
import { startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import { startHttpListener } from '../../../src/protocols/http/listener.ts'
import { startKafkaListener } from '../../../src/protocols/kafka/index.ts'
import { loadConfig } from '../../../src/server/config.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

async function brokerFor(t: TestContext): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-per-address-'))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  t.after(async () => {
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return broker
}

/** Every raw socket a test opened; destroyed before its listeners close (an idle one would hold the close). */
const opened: net.Socket[] = []

function destroyAll(): void {
  for (const socket of opened.splice(0)) socket.destroy()
}

/** A raw socket and whether the server kept it: 'closed' if it was dropped within 500 ms of connecting. */
async function rawSocket(port: number): Promise<{ socket: net.Socket; state: 'open' | 'closed' }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  opened.push(socket)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')))
  const state = await Promise.race([closed, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 500))])
  return { socket, state }
}

async function closeAndSettle(socket: net.Socket): Promise<void> {
  socket.destroy()
  // The server sees the close a moment later; its count drops then.
  await new Promise((resolve) => setTimeout(resolve, 200))
}

test('a TCP listener drops the connection beyond connectionsPerAddressMax from one address', async (t) => {
  const broker = await brokerFor(t)
  const options = { broker, host: '127.0.0.1', port: 0, logger: silentLogger, connectionsPerAddressMax: 2 }
  const amqp = await startAmqpListener(options)
  t.after(async () => {
    destroyAll()
    await amqp.close()
  })
  const kafka = await startKafkaListener({
    ...options,
    kafka: { autoCreateTopics: true, defaultPartitions: 1, advertisedHost: null },
  })
  t.after(async () => {
    destroyAll()
    await kafka.close()
  })

  const first = await rawSocket(amqp.port)
  const second = await rawSocket(amqp.port)
  assert.deepEqual([first.state, second.state], ['open', 'open'])
  assert.equal((await rawSocket(amqp.port)).state, 'closed', 'the third from 127.0.0.1 is dropped')
  // The bound is per listener: the same address still reaches another one.
  assert.equal((await rawSocket(kafka.port)).state, 'open')

  await closeAndSettle(first.socket)
  assert.equal((await rawSocket(amqp.port)).state, 'open', 'a closed socket frees its place')
  assert.equal((await rawSocket(amqp.port)).state, 'closed')
})

test('the HTTP listener counts its sockets per address too (keep-alive and idle ones included)', async (t) => {
  const broker = await brokerFor(t)
  const http = await startHttpListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    connectionsPerAddressMax: 2,
  })
  t.after(async () => {
    destroyAll()
    await http.close()
  })
  const first = await rawSocket(http.port)
  const second = await rawSocket(http.port)
  assert.deepEqual([first.state, second.state], ['open', 'open'])
  assert.equal((await rawSocket(http.port)).state, 'closed', 'the third idle socket is dropped')

  // A held socket still serves requests.
  const reply = new Promise<string>((resolve) => second.socket.once('data', (d: Buffer) => resolve(d.toString())))
  second.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
  assert.match(await reply, /^HTTP\/1\.1 200/)

  await closeAndSettle(first.socket)
  assert.equal((await rawSocket(http.port)).state, 'open', 'a closed socket frees its place')
})

test('connectionsPerAddressMax is a positive integer in the config (flag, environment, file)', () => {
  assert.equal(loadConfig({ env: {} }).connectionsPerAddressMax, 1000)
  assert.equal(loadConfig({ env: { WHARF_CONNECTIONS_PER_ADDRESS_MAX: '5' } }).connectionsPerAddressMax, 5)
  assert.throws(
    () => loadConfig({ env: { WHARF_CONNECTIONS_PER_ADDRESS_MAX: '0' } }),
    /WHARF_CONNECTIONS_PER_ADDRESS_MAX must be a positive integer/,
  )
})
