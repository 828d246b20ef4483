// AMQP 1.0 connections in the admin API with a real rhea client: GET /api/v1/connections lists them with the
// container id and sessions; DELETE closes one with amqp:connection:forced, which rhea reports.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import rhea from 'rhea'
import { startAmqp10Listener } from '../../../src/protocols/amqp10/index.ts'
import { startHttpListener } from '../../../src/protocols/http/listener.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

interface Started {
  name: string
  port: number
  urls: string[]
  close(): Promise<void>
}

test('amqp10 connections: listed with their container id and sessions, closed by an administrator', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp10-conns-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const started = new Map<string, Started>()
  const http = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger, started })
  started.set('http', http)
  const listener = await startAmqp10Listener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger, started })
  started.set('amqp10', listener)
  t.after(async () => {
    await listener.close()
    await http.close()
    await broker.close()
  })
  const api = `http://127.0.0.1:${http.port}/api/v1`
  // biome-ignore lint/suspicious/noExplicitAny: response shapes are asserted field by field
  const get = async (path: string): Promise<any> => (await fetch(`${api}${path}`)).json()

  const container = rhea.create_container({ id: 'orders-app' })
  const connection = container.connect({ host: '127.0.0.1', port: listener.port, reconnect: false })
  const errors: string[] = []
  connection.on('connection_error', (ctx) => errors.push(String(ctx.connection.error?.condition)))
  connection.on('disconnected', () => {})
  await new Promise((resolve) => connection.once('connection_open', resolve))
  connection.open_receiver('listed')
  connection.create_session().begin()
  await new Promise((r) => setTimeout(r, 200))

  const list = await get('/connections?protocol=amqp10')
  assert.equal(list.total, 1)
  const [mine] = (await get('/connections?q=orders-app')).items
  assert.ok(mine, 'found by its container id')
  assert.equal(mine.protocol, 'amqp10')
  assert.equal(mine.clientId, 'orders-app')
  assert.match(mine.remoteAddress, /^127\.0\.0\.1:\d+$/)
  assert.ok(Math.abs(mine.connectedAt - Date.now()) < 60_000)
  assert.equal(mine.details.sessions, 2)

  const closedByAdmin = new Promise((resolve) => connection.once('connection_error', resolve))
  const response = await fetch(`${api}/connections/${encodeURIComponent(mine.id)}`, { method: 'DELETE' })
  assert.equal(response.status, 200)
  await closedByAdmin
  assert.deepEqual(errors, ['amqp:connection:forced'])
  const deadline = Date.now() + 5000
  while ((await get('/connections?protocol=amqp10')).total !== 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  assert.equal((await get('/connections?protocol=amqp10')).total, 0)
})
