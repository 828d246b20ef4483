// Connections in the admin API with a real amqplib client: GET /api/v1/connections shows the client
// properties amqplib sends (product, version, connection_name), the user, channels with their prefetch and
// unacked count; DELETE closes it with connection.close 320 CONNECTION_FORCED, which amqplib reports on 'close'.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import amqp from 'amqplib'
import { startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { startAdminApi } from '../../fixtures/admin-api.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

test('amqp connections: listed with client properties and channels, closed with 320', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-conns-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const listener = await startAmqpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  const api = await startAdminApi(t, broker, new Map([['amqp', listener]]))

  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${listener.port}`, {
    clientProperties: { connection_name: 'orders-worker' },
  })
  const other = await amqp.connect(`amqp://guest:guest@127.0.0.1:${listener.port}`)
  t.after(() => other.close().catch(() => {}))
  const channel = await connection.createChannel()
  await channel.prefetch(7)
  await channel.assertQueue('work')
  for (let i = 0; i < 3; i++) channel.sendToQueue('work', Buffer.from(`job ${i}`))
  const received: amqp.ConsumeMessage[] = []
  await channel.consume('work', (m) => m && received.push(m))
  await channel.assertQueue('idle') // a second channel with nothing on it
  const idle = await connection.createChannel()
  const deadline = Date.now() + 5000
  while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  assert.equal(received.length, 3)

  assert.equal((await api.connections('amqp')).total, 2)
  const mine = await api.find('orders-worker')
  assert.ok(mine, 'the connection is found by its connection_name')
  assert.equal(mine.protocol, 'amqp')
  assert.equal(mine.clientName, 'amqplib')
  assert.match(mine.clientVersion, /^\d+\.\d+\.\d+/)
  assert.equal(mine.user, 'guest')
  assert.match(mine.remoteAddress, /^127\.0\.0\.1:\d+$/)
  assert.ok(Math.abs(mine.connectedAt - Date.now()) < 60_000)
  assert.equal(mine.details.connectionName, 'orders-worker')
  assert.equal(mine.details.channelCount, 2)
  const consuming = mine.details.channels.find((c: { consumers: number }) => c.consumers === 1)
  assert.deepEqual(
    { prefetch: consuming.prefetch, unacked: consuming.unacked },
    { prefetch: 7, unacked: 3 },
    'per-channel prefetch and unacked deliveries',
  )
  channel.ack(received[0]!)
  await idle.close()
  const after = await api.find('orders-worker')
  assert.equal(after.details.channelCount, 1)
  assert.equal(after.details.channels[0].unacked, 2)
  assert.equal((await api.get('/connections?protocol=nope')).error.code, 'INVALID_ARGUMENT')

  // Close it as an administrator: amqplib gets connection.close 320 and emits 'close' with it (amqplib counts
  // CONNECTION_FORCED as non-fatal, so no 'error' event, as with RabbitMQ's management close).
  const closed = new Promise<Error & { code?: number }>((resolve) => connection.once('close', resolve))
  const channelClosed = new Promise<void>((resolve) => channel.once('close', () => resolve()))
  const response = await api.close(mine.id)
  assert.equal(response.status, 200)
  assert.deepEqual(await response.json(), { closed: mine.id })
  const error = await closed
  assert.equal(error?.code, 320)
  assert.match(error.message, /CONNECTION_FORCED - Closed via management plugin/)
  await channelClosed
  // Its unacked deliveries went back to the queue; the other connection is untouched.
  const remaining = await api.connections('amqp')
  assert.equal(remaining.total, 1)
  assert.notEqual(remaining.items[0].id, mine.id)
  const gone = await api.close(mine.id)
  assert.equal(gone.status, 404)
  assert.equal(await api.gauge('amqp'), 1)
})
