// AMQP authorization with amqplib: ACL denials close the channel with 403 ACCESS_REFUSED and RabbitMQ's text
// while another user (or another resource) is served; rule changes reach open connections; the default
// permission `deny` turns allow rules into an allow-list.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import type { AclBinding } from '../../../src/broker/security/acls.ts'
import { connect, startWharf } from './helpers.ts'

function rule(principal: string, operation: string, resourceType: string, name: string, prefixed = false) {
  return {
    principal,
    host: '*',
    operation,
    permission: 'Deny',
    resourceType,
    resourceName: name,
    patternType: prefixed ? 'Prefixed' : 'Literal',
  }
}

const security = {
  users: [
    { name: 'alice', password: 'alice-pw' },
    { name: 'bob', password: 'bob-pw' },
  ],
  acls: [
    rule('User:bob', 'Write', 'Topic', 'payments'),
    rule('User:bob', 'Read', 'Topic', 'ledger'),
    rule('User:bob', 'Create', 'Topic', 'secret.', true),
    rule('User:bob', 'Delete', 'Topic', 'payments'),
    rule('User:bob', 'Create', 'Exchange', 'x.private'),
    rule('User:bob', 'Read', 'Exchange', 'audit'),
    rule('User:bob', 'Write', 'Exchange', 'x.closed'),
  ],
}

const refusedQueue = (name: string, user = 'bob') =>
  `ACCESS_REFUSED - access to queue '${name}' in vhost '/' refused for user '${user}'`
const refusedExchange = (name: string, user = 'bob') =>
  `ACCESS_REFUSED - access to exchange '${name}' in vhost '/' refused for user '${user}'`

/** The reply text of the channel.close an operation ended in. */
async function refusal(operation: Promise<unknown>): Promise<string> {
  try {
    await operation
  } catch (error) {
    const match = /403 \(ACCESS-REFUSED\) with message "(.*)"/.exec((error as Error).message)
    if (match) return match[1]!
    throw error
  }
  throw new Error('the operation was allowed')
}

/** The reply text of the channel.close that a publish on `ch` ends in. */
function closedWith(ch: amqp.Channel): Promise<string> {
  return new Promise((resolve) =>
    ch.once('error', (error: Error) => resolve(/with message "(.*)"/.exec(error.message)?.[1] ?? error.message)),
  )
}

/** alice's and bob's connections; a channel refused by the server closes with an 'error' event, expected here. */
async function users(t: Parameters<typeof connect>[0], port: number) {
  const alice = await connect(t, `amqp://alice:alice-pw@127.0.0.1:${port}`)
  const bob = await connect(t, `amqp://bob:bob-pw@127.0.0.1:${port}`)
  const quiet = <C extends amqp.Channel>(ch: C): C => {
    ch.on('error', () => {})
    return ch
  }
  const channels = (conn: amqp.ChannelModel) => ({
    channel: async () => quiet(await conn.createChannel()),
    confirmChannel: async () => quiet(await conn.createConfirmChannel()),
  })
  return { alice: channels(alice), bob: channels(bob) }
}

async function getOne(ch: amqp.Channel, queue: string): Promise<string> {
  for (;;) {
    const m = await ch.get(queue, { noAck: true })
    if (m) return m.content.toString()
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('Write denied on Topic payments: bob cannot publish to it through the default exchange, alice can', async (t) => {
  const w = await startWharf(t, {}, { security })
  const { alice, bob } = await users(t, w.port)
  const ach = await alice.confirmChannel()
  await ach.assertQueue('payments')
  await ach.assertQueue('other')
  ach.sendToQueue('payments', Buffer.from('from alice'))
  await ach.waitForConfirms()
  assert.equal(await getOne(ach, 'payments'), 'from alice')

  const bch = await bob.channel()
  const closed = closedWith(bch)
  bch.sendToQueue('payments', Buffer.from('from bob'))
  assert.equal(await closed, refusedQueue('payments'))
  // Only that channel closed: bob's connection serves other queues.
  const bch2 = await bob.confirmChannel()
  bch2.sendToQueue('other', Buffer.from('bob elsewhere'))
  await bch2.waitForConfirms()
  assert.equal(await getOne(ach, 'other'), 'bob elsewhere')
  assert.equal((await ach.checkQueue('payments')).messageCount, 0)

  // Write on an exchange: bob is refused on x.closed, alice is not.
  await ach.assertExchange('x.closed', 'fanout')
  await ach.bindQueue('other', 'x.closed', '')
  const bch3 = await bob.channel()
  const closed3 = closedWith(bch3)
  bch3.publish('x.closed', '', Buffer.from('bob via exchange'))
  assert.equal(await closed3, refusedExchange('x.closed'))
  ach.publish('x.closed', '', Buffer.from('alice via exchange'))
  await ach.waitForConfirms()
  assert.equal(await getOne(ach, 'other'), 'alice via exchange')
})

test('Read denied on Topic ledger: bob cannot consume or get from it, alice can', async (t) => {
  const w = await startWharf(t, {}, { security })
  const { alice, bob } = await users(t, w.port)
  // Refused before the queue exists: the answer is 403, not 404, so it reveals nothing about the queue.
  assert.equal(await refusal((await bob.channel()).get('ledger')), refusedQueue('ledger'))
  const ach = await alice.channel()
  await ach.assertQueue('ledger')
  ach.sendToQueue('ledger', Buffer.from('entry'))

  const bch = await bob.channel()
  assert.equal(await refusal(bch.consume('ledger', () => {})), refusedQueue('ledger'))
  const bch2 = await bob.channel()
  assert.equal(await refusal(bch2.get('ledger')), refusedQueue('ledger'))

  const got = new Promise<string>((resolve) => {
    void ach.consume('ledger', (m) => m && resolve(m.content.toString()), { noAck: true })
  })
  assert.equal(await got, 'entry')
})

test('declare, bind, purge and delete denials; passive declare needs only Describe', async (t) => {
  const w = await startWharf(t, {}, { security })
  const { alice, bob } = await users(t, w.port)
  const ach = await alice.channel()
  const open = () => bob.channel()

  assert.equal(await refusal((await open()).assertQueue('secret.plans')), refusedQueue('secret.plans'))
  await ach.assertQueue('secret.plans')
  // Passive declare (Describe) is not denied.
  assert.equal((await (await open()).checkQueue('secret.plans')).queue, 'secret.plans')

  assert.equal(await refusal((await open()).assertExchange('x.private', 'topic')), refusedExchange('x.private'))
  await ach.assertExchange('x.private', 'topic')

  await ach.assertExchange('audit', 'fanout')
  await ach.assertQueue('bobs')
  assert.equal(await refusal((await open()).bindQueue('bobs', 'audit', '')), refusedExchange('audit'))
  assert.equal(await refusal((await open()).bindExchange('x.private', 'audit', '')), refusedExchange('audit'))
  // Bind needs Write on the queue: payments is not writable for bob.
  await ach.assertQueue('payments')
  await ach.assertExchange('x.open', 'fanout')
  assert.equal(await refusal((await open()).bindQueue('payments', 'x.open', '')), refusedQueue('payments'))
  const bch = await open()
  await bch.bindQueue('bobs', 'x.open', '')

  assert.equal(await refusal((await open()).purgeQueue('payments')), refusedQueue('payments'))
  assert.equal(await refusal((await open()).deleteQueue('payments')), refusedQueue('payments'))
  await bch.purgeQueue('bobs')
  await bch.deleteQueue('bobs')
  await ach.purgeQueue('payments')
  await ach.deleteQueue('payments')
})

test('rule changes reach open connections; defaultPermission deny makes allow rules an allow-list', async (t) => {
  const w = await startWharf(t, {}, { security })
  const { alice, bob } = await users(t, w.port)
  const ach = await alice.channel()
  await ach.assertQueue('orders')
  const bch = await bob.confirmChannel()
  bch.sendToQueue('orders', Buffer.from('one'))
  await bch.waitForConfirms()

  await w.broker.security.acls.add([rule('User:bob', 'Write', 'Topic', 'orders') as AclBinding])
  const closed = closedWith(bch)
  bch.sendToQueue('orders', Buffer.from('two'))
  assert.equal(await closed, refusedQueue('orders'))
  assert.equal((await ach.checkQueue('orders')).messageCount, 1)

  w.broker.security.configure({ defaultPermission: 'deny' })
  await w.broker.security.acls.add([
    { ...rule('User:bob', 'All', 'Topic', 'bob.', true), permission: 'Allow' } as AclBinding,
  ])
  const b2 = await bob.confirmChannel()
  await b2.assertQueue('bob.inbox')
  b2.sendToQueue('bob.inbox', Buffer.from('mine'))
  await b2.waitForConfirms()
  assert.equal(await getOne(b2, 'bob.inbox'), 'mine')
  assert.equal(await refusal(b2.assertQueue('alice.inbox')), refusedQueue('alice.inbox'))
  // alice has no allow rule: under deny she may do nothing either.
  assert.equal(await refusal(ach.assertQueue('alice.inbox')), refusedQueue('alice.inbox', 'alice'))
})
