// AMQP 1.0 connections in the admin API with a real rhea client: GET /api/v1/connections lists them with the
// container id and sessions; DELETE closes one with amqp:connection:forced, which rhea reports.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import rhea from 'rhea'
import { startAdminApi } from '../../fixtures/admin-api.ts'
import { startWharf } from './helpers.ts'

test('amqp10 connections: listed with their container id and sessions, closed by an administrator', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  const api = await startAdminApi(t, wharf.broker, new Map([['amqp10', wharf.listener]]))

  const container = rhea.create_container({ id: 'orders-app' })
  const connection = container.connect({ host: '127.0.0.1', port: wharf.port, reconnect: false })
  const errors: string[] = []
  connection.on('connection_error', (ctx) => errors.push(String(ctx.connection.error?.condition)))
  connection.on('disconnected', () => {})
  await new Promise((resolve) => connection.once('connection_open', resolve))
  connection.open_receiver('listed')
  connection.create_session().begin()
  // The second session's begin is answered asynchronously: wait until the listing shows it (a loaded machine is slow).
  const until = Date.now() + 10_000
  while ((await api.find('orders-app'))?.details.sessions !== 2 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20))

  assert.equal((await api.connections('amqp10')).total, 1)
  const mine = await api.find('orders-app')
  assert.ok(mine, 'found by its container id')
  assert.equal(mine.protocol, 'amqp10')
  assert.equal(mine.clientId, 'orders-app')
  assert.match(mine.remoteAddress, /^127\.0\.0\.1:\d+$/)
  assert.ok(Math.abs(mine.connectedAt - Date.now()) < 60_000)
  assert.equal(mine.details.sessions, 2)
  assert.equal(await api.gauge('amqp10'), 1)

  const closedByAdmin = new Promise((resolve) => connection.once('connection_error', resolve))
  const response = await api.close(mine.id)
  assert.equal(response.status, 200)
  await closedByAdmin
  assert.deepEqual(errors, ['amqp:connection:forced'])
  assert.equal(await api.untilConnections('amqp10', 0), 0)
})
