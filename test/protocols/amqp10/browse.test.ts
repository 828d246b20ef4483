// Browsing (source distribution-mode copy, as Qpid JMS's QueueBrowser attaches): the queue's messages are read
// without being leased or removed; a drain at the end gives the credit back. rhea over TCP.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type rhea from 'rhea'
import { connect, startWharf } from './helpers.ts'
import { eventually, gather, once, sendAll } from './rhea-helpers.ts'

const copy = (address: string) => ({ address, distribution_mode: 'copy' }) as unknown as rhea.Source

test('a browsing receiver reads every message, pages beyond its credit, and leaves the queue unchanged', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const count = 250
  await sendAll(
    connection,
    'browsed',
    Array.from({ length: count }, (_, i) => ({ body: `b${i}` })),
  )
  // A credit window of 20: rhea tops it up as messages arrive, so the browser reads page after page.
  const browser = connection.open_receiver({ source: copy('browsed'), credit_window: 20 })
  const got = gather(browser)
  await got.next(count)
  assert.deepEqual(
    got.bodies(),
    Array.from({ length: count }, (_, i) => `b${i}`),
  )
  const stats = wharf.broker.queueStats('browsed')
  assert.equal(stats.depth, count, 'nothing removed')
  assert.equal(stats.ready, count, 'nothing leased')
  // A consumer still gets all of them.
  const consumer = gather(connection.open_receiver({ source: 'browsed', credit_window: 100 }))
  await consumer.next(count)
  assert.equal(consumer.bodies()[0], 'b0')
})

test('a browsing receiver that drains at the end gets its credit back (how a JMS browser knows it is done)', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  await sendAll(connection, 'short', [{ body: 'one' }, { body: 'two' }, { body: 'three' }])
  const browser = connection.open_receiver({ source: copy('short'), credit_window: 0, autoaccept: false })
  await once(browser, 'receiver_open')
  const got = gather(browser)
  const drained = once(browser, 'receiver_drained')
  browser.drain = true
  browser.add_credit(10)
  await drained
  assert.deepEqual(got.bodies(), ['one', 'two', 'three'])
  assert.equal((browser as unknown as { credit: number }).credit, 0, 'the unused credit is spent by the drain')
  assert.ok(await eventually(() => wharf.broker.queueStats('short').ready === 3), 'still all in the queue')
  // Browsing again starts over: the messages are still there.
  const again = gather(connection.open_receiver({ source: copy('short'), credit_window: 10 }))
  await again.next(3)
  assert.deepEqual(again.bodies(), ['one', 'two', 'three'])
})

test('drain on a consuming receiver: what is there is delivered, then the rest of the credit comes back', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  await sendAll(connection, 'drained', [{ body: 'only' }])
  const receiver = connection.open_receiver({ source: 'drained', credit_window: 0 })
  await once(receiver, 'receiver_open')
  const got = gather(receiver)
  const drained = once(receiver, 'receiver_drained')
  receiver.drain = true
  receiver.add_credit(5)
  await drained
  assert.deepEqual(got.bodies(), ['only'])
  assert.equal((receiver as unknown as { credit: number }).credit, 0)
  assert.ok(await eventually(() => wharf.broker.queueStats('drained').depth === 0), 'consumed, not browsed')
})
