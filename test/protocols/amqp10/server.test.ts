// `wharf start`: AMQP 1.0 and AMQP 0-9-1 share the AMQP port, told apart by the protocol header, and meet on
// one queue.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqplib from 'amqplib'
import rhea from 'rhea'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'

// A first start with no users allows anonymous access from loopback: both clients log in that way.
test('rhea and amqplib on the one AMQP port: a message sent over AMQP 1.0 is consumed over 0-9-1', async (t) => {
  const { ports } = await startSpawned(t, ['amqp'])
  const connection = rhea.create_container().connect({
    host: '127.0.0.1',
    port: ports.amqp,
    reconnect: false,
  })
  t.after(() => connection.close())
  const sender = connection.open_sender('shared-port')
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()))
  sender.send({ body: 'from amqp 1.0', correlation_id: 'c-1', content_type: 'text/plain' })
  await new Promise<void>((resolve) => sender.once('accepted', () => resolve()))

  const amqp = await amqplib.connect(`amqp://127.0.0.1:${ports.amqp}`)
  t.after(() => amqp.close().catch(() => {}))
  const channel = await amqp.createChannel()
  const got = await new Promise<amqplib.ConsumeMessage>((resolve) =>
    channel.consume('shared-port', (m) => m && resolve(m), { noAck: true }),
  )
  assert.equal(got.content.toString(), 'from amqp 1.0')
  assert.equal(got.properties.correlationId, 'c-1')
  assert.equal(got.properties.contentType, 'text/plain')
})
