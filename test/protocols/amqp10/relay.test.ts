// Anonymous relay: a sender link without a target address; each message's properties.to names its queue or
// topic, checked per message. rhea and rhea-promise, over TCP.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Connection, SendOperationFailedError } from 'rhea-promise'
import { connect, startWharf } from './helpers.ts'
import { gather, once } from './rhea-helpers.ts'

test('rhea: the broker offers ANONYMOUS-RELAY; a null-target sender routes each message by properties.to', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const offered = (connection as unknown as { remote: { open: { offered_capabilities?: unknown } } }).remote.open
    .offered_capabilities
  assert.ok([offered].flat().includes('ANONYMOUS-RELAY'), `offered: ${String(offered)}`)
  await wharf.broker.createQueue('relay.orders', {})
  const topicReader = connection.open_receiver('topic://relay.news')
  await once(topicReader, 'receiver_open')
  const news = gather(topicReader)
  const sender = connection.open_sender({ target: {} })
  await once(sender, 'sendable')
  const remote = (sender as unknown as { remote: { attach: { target?: { address?: unknown } } } }).remote.attach
  assert.equal(remote.target?.address ?? null, null, 'the reply attach keeps the null target address')
  const outcomes: string[] = []
  sender.on('accepted', () => outcomes.push('accepted'))
  sender.send({ to: 'relay.orders', body: 'order-1' })
  sender.send({ to: 'topic://relay.news', body: 'headline' })
  // A Qpid JMS anonymous producer names a topic by the x-opt-jms-dest annotation (1) instead of a prefix.
  sender.send({ to: 'relay.news', body: 'by-annotation', message_annotations: { 'x-opt-jms-dest': 1 } })
  assert.ok(
    await new Promise<boolean>((resolve) => {
      const timer = setInterval(() => outcomes.length === 3 && resolve(true), 20)
      setTimeout(() => {
        clearInterval(timer)
        resolve(false)
      }, 10_000)
    }),
    `outcomes: ${outcomes.join(',')}`,
  )
  assert.equal(wharf.broker.queueStats('relay.orders').depth, 1)
  await news.next(2)
  assert.deepEqual(news.bodies(), ['headline', 'by-annotation'])
})

test('rhea: a relay message to an unknown queue or without properties.to is rejected (amqp:not-found); the link stays', async (t) => {
  const wharf = await startWharf(t, { autoCreateQueues: false })
  await wharf.broker.createQueue('known', {})
  const connection = await connect(t, wharf)
  const sender = connection.open_sender({ target: {} })
  await once(sender, 'sendable')
  const rejected: Array<{ condition: string; description: string }> = []
  sender.on('rejected', (ctx) => {
    const error = (ctx.delivery!.remote_state as { error?: { condition: string; description: string } }).error!
    rejected.push(error)
  })
  const accepted = new Promise<void>((resolve) => sender.once('accepted', () => resolve()))
  sender.send({ to: 'missing', body: 'lost' })
  sender.send({ body: 'nowhere' })
  sender.send({ to: 'known', body: 'kept' })
  await accepted
  assert.equal(rejected.length, 2)
  assert.equal(rejected[0]!.condition, 'amqp:not-found')
  assert.match(rejected[0]!.description, /missing/)
  assert.equal(rejected[1]!.condition, 'amqp:not-found')
  assert.ok(sender.is_open(), 'rejecting a delivery does not detach the link')
  assert.equal(wharf.broker.getQueue('missing'), undefined)
  assert.equal(wharf.broker.queueStats('known').depth, 1)
})

test('rhea-promise: a relay message to a queue the user may not write is rejected with amqp:unauthorized-access', async (t) => {
  const deny = {
    principal: 'User:bob',
    host: '*',
    operation: 'Write',
    permission: 'Deny',
    resourceType: 'Topic',
    resourceName: 'payroll',
    patternType: 'Literal',
  }
  const wharf = await startWharf(t, { anonymous: false, acls: [deny] })
  await wharf.broker.createQueue('payroll', {})
  await wharf.broker.createQueue('public', {})
  const connection = new Connection({
    host: '127.0.0.1',
    port: wharf.port,
    username: 'bob',
    password: 'bob-pw',
    reconnect: false,
  } as never)
  await connection.open()
  t.after(() => connection.close())
  const sender = await connection.createAwaitableSender({ target: {} } as never)
  const failure = await sender.send({ to: 'payroll', body: 'raise' }).then(
    () => undefined,
    (error: unknown) => error,
  )
  assert.ok(failure instanceof SendOperationFailedError, `got ${String(failure)}`)
  assert.equal(failure.code, 'rejected')
  assert.equal((failure.innerError as unknown as { condition: string }).condition, 'amqp:unauthorized-access')
  await sender.send({ to: 'public', body: 'hello' })
  assert.equal(wharf.broker.queueStats('public').depth, 1)
  assert.equal(wharf.broker.queueStats('payroll').depth, 0)
  assert.ok(sender.isOpen())
})

test('rhea: a bare address with the topic capability (as Qpid JMS attaches topics) is a topic, for senders and receivers', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const receiver = connection.open_receiver({ source: { address: 'caps.news', capabilities: ['topic'] } } as never)
  await once(receiver, 'receiver_open')
  const got = gather(receiver)
  const sender = connection.open_sender({ target: { address: 'caps.news', capabilities: ['topic'] } } as never)
  await once(sender, 'sendable')
  const accepted = once(sender, 'accepted')
  sender.send({ body: 'via topic capability' })
  await accepted
  await got.next(1)
  assert.deepEqual(got.bodies(), ['via topic capability'])
  assert.equal(wharf.broker.getQueue('caps.news'), undefined, 'no queue of that name was created')
})

test('rhea: a reply relayed to a temporary queue whose connection is gone is rejected (amqp:not-found), not recreated', async (t) => {
  const wharf = await startWharf(t)
  const client = await connect(t, wharf)
  const dynamic = client.open_receiver({ source: { dynamic: true } } as never)
  const opened = await once(dynamic, 'receiver_open')
  const replyTo = opened.receiver!.source.address as string
  client.close()
  const deadline = Date.now() + 10_000
  while (wharf.broker.getQueue(replyTo) !== undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  const server = await connect(t, wharf)
  const sender = server.open_sender({ target: {} })
  await once(sender, 'sendable')
  const rejected = once(sender, 'rejected')
  sender.send({ to: replyTo, body: 'too late' })
  const ctx = await rejected
  assert.equal((ctx.delivery!.remote_state as { error?: { condition: string } }).error?.condition, 'amqp:not-found')
  assert.equal(wharf.broker.getQueue(replyTo), undefined)
})
