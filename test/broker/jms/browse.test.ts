// broker.browse: the messages a queue holds, read without leasing them, in bounded pages from the ack
// floor, acked ones skipped, in-flight ones shown, expired and not-yet-due delayed ones hidden.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openBroker, text } from '../helpers.ts'

const bodies = (page: { messages: Array<{ value: Buffer | null }> }) => page.messages.map((m) => m.value?.toString())

test('browse: every unacked message, pages of max, nothing leased', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue(
    'q',
    Array.from({ length: 7 }, (_, i) => ({ value: `m${i}` })),
  )
  const [first] = await broker.get('q', { owner: 'c', max: 1 })
  await broker.deliveries.ack(first!)
  const [inflight] = await broker.get('q', { owner: 'c', max: 1 })
  assert.equal(text(inflight!), 'm1')
  const page1 = await broker.browse('q', { max: 4 })
  assert.deepEqual(bodies(page1), ['m1', 'm2', 'm3', 'm4'], 'acked m0 skipped, in-flight m1 shown')
  assert.ok(page1.next !== null)
  const page2 = await broker.browse('q', { from: page1.next!, max: 4 })
  assert.deepEqual(bodies(page2), ['m5', 'm6'])
  assert.equal(page2.next, null)
  assert.equal(broker.queue('q').depth(), 6, 'browsing leased nothing')
  const rest = await broker.get('q', { owner: 'c', max: 10 })
  assert.deepEqual(rest.map(text), ['m2', 'm3', 'm4', 'm5', 'm6'])
})

test('browse: acked offsets in the middle are skipped; expired and delayed messages are hidden', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', [{ value: 'a' }, { value: 'b' }, { value: 'c' }])
  await broker.sendToQueue('q', [
    { value: 'gone', ttlMs: 1 },
    { value: 'later', delayMs: 60_000 },
  ])
  const taken = await broker.get('q', { owner: 'c', max: 2 })
  await broker.deliveries.ack(taken[1]!)
  await new Promise((resolve) => setTimeout(resolve, 10))
  const page = await broker.browse('q')
  assert.deepEqual(bodies(page), ['a', 'c'])
  assert.equal(page.next, null)
})

test('browse: body bytes bound a page (one message always fits); unknown queue rejects', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', [{ value: Buffer.alloc(1000) }, { value: Buffer.alloc(1000) }])
  const page = await broker.browse('q', { maxBytes: 10 })
  assert.equal(page.messages.length, 1)
  assert.ok(page.next !== null)
  await assert.rejects(broker.browse('missing'), { code: 'SUBSCRIPTION_NOT_FOUND' })
})
