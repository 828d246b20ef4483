// AMQPS with rhea: SASL EXTERNAL with a client certificate (its common name is the user), and PLAIN over TLS.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import rhea, { type Connection, type ConnectionOptions, type EventContext } from 'rhea'
import { devCertificates } from '../../fixtures/tls.ts'
import { startWharf, type Wharf } from './helpers.ts'

async function tlsConnect(wharf: Wharf, options: Partial<ConnectionOptions>): Promise<Connection> {
  const files = await devCertificates()
  const connection = rhea.create_container().connect({
    transport: 'tls',
    host: '127.0.0.1',
    servername: 'localhost',
    port: wharf.listener.tlsPort!,
    ca: readFileSync(files.ca),
    reconnect: false,
    ...options,
  } as ConnectionOptions)
  connection.on('disconnected', () => {})
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve())
    connection.once('connection_error', (ctx) => reject(ctx.connection.error ?? new Error('connection error')))
    connection.once('disconnected', (ctx) => reject(ctx.error ?? new Error('disconnected')))
  })
  return connection
}

const users = (wharf: Wharf) => [...wharf.listener.connections].map((c) => c.describe().user)

async function roundTrip(connection: Connection, queue: string): Promise<string> {
  const sender = connection.open_sender(queue)
  await new Promise((resolve) => sender.once('sendable', resolve))
  sender.send({ body: 'over tls' })
  await new Promise((resolve) => sender.once('accepted', resolve))
  const got = await new Promise<EventContext>((resolve) => connection.open_receiver(queue).once('message', resolve))
  return got.message!.body as string
}

test('SASL EXTERNAL over AMQPS: the client certificate names the user', async (t) => {
  const wharf = await startWharf(t, { anonymous: false, tls: 'require' })
  const files = await devCertificates()
  const connection = await tlsConnect(wharf, {
    cert: readFileSync(files.clients.alice!.cert),
    key: readFileSync(files.clients.alice!.key),
    enable_sasl_external: true,
  } as Partial<ConnectionOptions>)
  t.after(() => connection.close())
  assert.deepEqual(users(wharf), ['alice'])
  assert.equal([...wharf.listener.connections][0]!.describe().tls, true)
  assert.equal(await roundTrip(connection, 'tls-external'), 'over tls')
})

test('PLAIN over AMQPS without a client certificate; EXTERNAL without one is refused', async (t) => {
  const wharf = await startWharf(t, { anonymous: false, tls: 'request' })
  const connection = await tlsConnect(wharf, { username: 'bob', password: 'bob-pw' })
  t.after(() => connection.close())
  assert.deepEqual(users(wharf), ['bob'])
  assert.equal(await roundTrip(connection, 'tls-plain'), 'over tls')
  // EXTERNAL without a certificate: the broker does not offer it, rhea has nothing to log in with.
  await assert.rejects(tlsConnect(wharf, { enable_sasl_external: true } as Partial<ConnectionOptions>))
})
