// Shared topic subscriptions as Qpid JMS attaches them (capabilities `shared`, `global`; link names with a `|`
// suffix per consumer), backed by the broker's JMS subscriptions; and the no-local filter. rhea over TCP.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import rhea from 'rhea'
import { connect, startWharf } from './helpers.ts'
import { eventually, gather, once, sendAll } from './rhea-helpers.ts'

const durable = { durable: 2, expiry_policy: 'never' }

test('a global shared durable subscription: receivers on two connections split its messages; it outlives them', async (t) => {
  const wharf = await startWharf(t)
  const source = { address: 'topic://shared.orders', capabilities: ['shared', 'global'], ...durable }
  const a = await connect(t, wharf, { container_id: 'app-a' } as never)
  const b = await connect(t, wharf, { container_id: 'app-b' } as never)
  // Qpid JMS's link names for createSharedDurableConsumer without a client id: `orders|global`, `orders|global2`.
  const first = a.open_receiver({ name: 'orders|global', source, credit_window: 1 } as never)
  const second = b.open_receiver({ name: 'orders|global2', source, credit_window: 1 } as never)
  await Promise.all([once(first, 'receiver_open'), once(second, 'receiver_open')])
  const got = [gather(first), gather(second)]
  const publisher = await connect(t, wharf)
  await sendAll(
    publisher,
    'topic://shared.orders',
    Array.from({ length: 10 }, (_, i) => ({ body: `o${i}` })),
  )
  assert.ok(await eventually(() => got[0]!.messages.length + got[1]!.messages.length === 10))
  const all = [...got[0]!.bodies(), ...got[1]!.bodies()].sort()
  assert.deepEqual(all, Array.from({ length: 10 }, (_, i) => `o${i}`).sort(), 'each message once')
  assert.ok(got[0]!.messages.length > 0 && got[1]!.messages.length > 0, 'both receivers got some')
  // The subscription is the broker's, named by the subscription name alone (global: no container id).
  const stored = wharf.broker.jms.durable.get(null, 'orders')
  assert.equal(stored?.shared, true)
  assert.equal(stored?.key, 'shared.orders')
  first.detach()
  second.detach()
  await Promise.all([once(first, 'receiver_close'), once(second, 'receiver_close')])
  await sendAll(publisher, 'topic://shared.orders', [{ body: 'while-away' }])
  assert.equal(wharf.broker.queueStats('orders').depth, 1, 'a durable subscription collects while nobody reads')
  const again = a.open_receiver({ name: 'orders|global', source } as never)
  assert.deepEqual(
    (await gather(again).next(1)).map((m) => m.body),
    ['while-away'],
  )
})

test('a shared volatile subscription (container-scoped) splits between its receivers and goes with the last one', async (t) => {
  const wharf = await startWharf(t)
  const source = { address: 'topic://shared.news', capabilities: ['shared'] }
  const connection = await connect(t, wharf, { container_id: 'news-app' } as never)
  const first = connection.open_receiver({ name: 'news|volatile1', source, credit_window: 1 } as never)
  const second = connection.open_receiver({ name: 'news|volatile2', source, credit_window: 1 } as never)
  await Promise.all([once(first, 'receiver_open'), once(second, 'receiver_open')])
  const got = [gather(first), gather(second)]
  const queue = 'news-app.news|volatile'
  assert.ok(wharf.broker.getQueue(queue) !== undefined, 'one subscription queue for both receivers')
  const publisher = await connect(t, wharf)
  await sendAll(
    publisher,
    'topic://shared.news',
    Array.from({ length: 6 }, (_, i) => ({ body: `n${i}` })),
  )
  assert.ok(await eventually(() => got[0]!.messages.length + got[1]!.messages.length === 6))
  assert.ok(got[0]!.messages.length > 0 && got[1]!.messages.length > 0, 'both receivers got some')
  first.detach()
  await once(first, 'receiver_close')
  assert.ok(wharf.broker.getQueue(queue) !== undefined, 'kept while a receiver remains')
  await sendAll(publisher, 'topic://shared.news', [{ body: 'late' }])
  assert.ok(await eventually(() => got[1]!.bodies().includes('late')))
  second.detach()
  await once(second, 'receiver_close')
  assert.ok(await eventually(() => wharf.broker.getQueue(queue) === undefined), 'gone with its last receiver')
  assert.ok(await eventually(() => wharf.broker.jms.durable.get('news-app', 'news|volatile') === undefined))
})

test('no-local (numeric and symbolic descriptors): a topic receiver does not get what its own connection publishes; the filter is echoed', async (t) => {
  const wharf = await startWharf(t)
  const numeric = { 'no-local': rhea.types.wrap_described([], 0x468c00000003) }
  const symbolic = { 'no-local': rhea.types.wrap_described([], 'apache.org:no-local-filter:list') }
  const own = await connect(t, wharf)
  const other = await connect(t, wharf)
  const receivers = [numeric, symbolic].map((filter) =>
    own.open_receiver({ source: { address: 'topic://chat', filter } as unknown as rhea.Source }),
  )
  const plain = own.open_receiver('topic://chat')
  const plainOpen = once(plain, 'receiver_open')
  const replies = await Promise.all(receivers.map((r) => once(r, 'receiver_open')))
  for (const reply of replies) {
    const echoed = (reply.receiver as unknown as { remote: { attach: { source: { filter?: object } } } }).remote.attach
      .source.filter
    assert.ok(echoed !== undefined && 'no-local' in echoed, 'the no-local filter is echoed in the attach reply')
  }
  await plainOpen
  const got = receivers.map(gather)
  const plainGot = gather(plain)
  await sendAll(own, 'topic://chat', [{ body: 'mine' }])
  await sendAll(other, 'topic://chat', [{ body: 'theirs' }])
  await plainGot.next(2)
  await got[0]!.next(1)
  await got[1]!.next(1)
  await new Promise((r) => setTimeout(r, 200))
  assert.deepEqual(plainGot.bodies(), ['mine', 'theirs'], 'without the filter it gets both')
  assert.deepEqual(got[0]!.bodies(), ['theirs'])
  assert.deepEqual(got[1]!.bodies(), ['theirs'])
})

test('no-local on a durable subscription is part of it: own messages are settled unseen, others kept', async (t) => {
  const wharf = await startWharf(t)
  const filter = { 'no-local': rhea.types.wrap_described([], 0x468c00000003) }
  const connection = await connect(t, wharf, { container_id: 'nl-app' } as never)
  const receiver = connection.open_receiver({
    name: 'feed',
    source: { address: 'topic://feed', filter, ...durable } as unknown as rhea.Source,
  })
  await once(receiver, 'receiver_open')
  const got = gather(receiver)
  assert.equal(wharf.broker.jms.durable.get('nl-app', 'feed')?.noLocal, true)
  const other = await connect(t, wharf)
  await sendAll(connection, 'topic://feed', [{ body: 'self' }])
  await sendAll(other, 'topic://feed', [{ body: 'peer' }])
  await got.next(1)
  assert.ok(await eventually(() => wharf.broker.queueStats('nl-app.feed').depth === 0), 'own message settled')
  assert.deepEqual(got.bodies(), ['peer'])
})

test('unsubscribe as Qpid JMS does it: attach the link name with no source, get the stored source back, close', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf, { container_id: 'unsub-app' } as never)
  const subscriber = connection.open_receiver({
    name: 'alerts',
    source: { address: 'topic://alerts', filter: rhea.filter.selector("level = 'high'"), ...durable },
  } as never)
  await once(subscriber, 'receiver_open')
  subscriber.detach()
  await once(subscriber, 'receiver_close')
  assert.ok(wharf.broker.getQueue('unsub-app.alerts') !== undefined)
  const lookup = connection.open_receiver({ name: 'alerts' })
  const opened = await once(lookup, 'receiver_open')
  const source = (opened.receiver as unknown as { remote: { attach: { source: Record<string, unknown> } } }).remote
    .attach.source
  assert.equal(source.address, 'alerts')
  assert.ok(source.filter !== undefined && 'jms-selector' in (source.filter as object), 'the selector is in it')
  lookup.close()
  await once(lookup, 'receiver_close')
  assert.ok(await eventually(() => wharf.broker.getQueue('unsub-app.alerts') === undefined), 'closing unsubscribes')
  assert.equal(wharf.broker.jms.durable.get('unsub-app', 'alerts'), undefined)
  const unknown = connection.open_receiver({ name: 'never-subscribed' })
  const closed = await once(unknown, 'receiver_close')
  assert.equal((closed.receiver!.error as { condition?: string } | undefined)?.condition, 'amqp:not-found')
})
