// sole-connection-for-container: a second connection asking to be its container's only one is refused with
// amqp:invalid-field naming container-id (as a duplicate JMS client id is). rhea over TCP.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import rhea from 'rhea'
import { connect, startWharf } from './helpers.ts'

const sole = { container_id: 'only-me', desired_capabilities: ['sole-connection-for-container'] } as never

test('a second sole connection for one container id is refused with amqp:invalid-field; the id is free once the first goes', async (t) => {
  const wharf = await startWharf(t)
  const first = await connect(t, wharf, sole)
  const offered = (first as unknown as { remote: { open: { offered_capabilities?: unknown } } }).remote.open
    .offered_capabilities
  for (const capability of ['sole-connection-for-container', 'SHARED-SUBS', 'ANONYMOUS-RELAY', 'DELAYED_DELIVERY'])
    assert.ok([offered].flat().includes(capability), `offers ${capability}`)
  const second = rhea.create_container().connect({
    host: '127.0.0.1',
    port: wharf.port,
    username: 'alice',
    password: 'alice-pw',
    reconnect: false,
    ...(sole as object),
  } as rhea.ConnectionOptions)
  t.after(() => second.is_open() && second.close())
  const error = await new Promise<{ condition: string; info?: Record<string, unknown> }>((resolve) => {
    second.once('connection_error', (ctx) => resolve(ctx.connection.error as never))
    second.once('connection_close', (ctx) => resolve(ctx.connection.error as never))
  })
  assert.equal(error.condition, 'amqp:invalid-field')
  assert.equal(error.info?.['invalid-field'], 'container-id')
  // Without asking to be the sole connection, the same container id may connect.
  const shared = await connect(t, wharf, { container_id: 'only-me' } as never)
  assert.ok(shared.is_open())
  first.close()
  await new Promise((resolve) => first.once('connection_close', resolve))
  const deadline = Date.now() + 10_000
  while (wharf.broker.jms.clientIds.holder('only-me') !== undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  const third = await connect(t, wharf, sole)
  assert.ok(third.is_open(), 'the container id is free again once its connection closed')
})
