// Queue consumers with selectors through the embedded API: a selective consumer gets only what it selects
// and leaves the rest to the others, messages nobody selects stay in the queue, matching messages behind a
// head of unselected ones are still found (within the read-ahead), returned messages are selected too
// (JMSRedelivered, JMSXDeliveryCount), pulls take a selector, a bad one is refused, and a priority group
// whose selective consumers find nothing lets the next group serve.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Broker } from '../../../src/broker/broker.ts'
import type { PublishMessage } from '../../../src/broker/message.ts'
import { property, propertyHeaders } from '../../../src/broker/properties/properties.ts'
import type { ConsumeOptions, Delivery } from '../../../src/broker/queue/types.ts'
import { compileSelector } from '../../../src/broker/selector/index.ts'
import { isWharfError } from '../../../src/index.ts'
import { openBroker, sleep, text, until } from '../helpers.ts'

/** Message i with an int property n = i and half = i % 2. */
function numbered(from: number, count: number): PublishMessage[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k
    return {
      value: `m${i}`,
      headers: propertyHeaders([
        ['n', property('int', i)],
        ['half', property('int', i % 2)],
      ]),
    }
  })
}

function collector(broker: Broker, queue: string, options: Partial<ConsumeOptions> = {}) {
  const got: Delivery[] = []
  const consumer = broker.consume(queue, {
    owner: options.owner ?? 'c',
    noAck: true,
    ...options,
    onDeliver: (ds) => got.push(...ds),
  })
  return { got, consumer, texts: () => got.map(text) }
}

test('a selective consumer gets only its matches, an unfiltered one the rest, nothing lost', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const odd = collector(broker, 'q', { owner: 'odd', selector: 'half = 1' })
  const all = collector(broker, 'q', { owner: 'all' })
  await broker.sendToQueue('q', numbered(0, 200))
  await until(() => odd.got.length + all.got.length === 200, 5000, '200 deliveries')
  await sleep(30)
  assert.equal(odd.got.length, 100)
  assert.ok(
    odd.got.every((d) => Number(text(d).slice(1)) % 2 === 1),
    'odd gets odd messages only',
  )
  assert.ok(
    all.got.every((d) => Number(text(d).slice(1)) % 2 === 0),
    'the others all went to the other consumer',
  )
  assert.equal(new Set([...odd.texts(), ...all.texts()]).size, 200)
})

test('messages no consumer selects stay in the queue; matches behind them are delivered', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', numbered(0, 300)) // n 0..299, nobody selects them
  await broker.sendToQueue('q', numbered(1000, 5)) // n 1000..1004
  const big = collector(broker, 'q', { owner: 'big', selector: 'n >= 1000' })
  await until(() => big.got.length === 5, 5000, 'the five matches behind 300 others')
  await sleep(50)
  assert.deepEqual(big.texts(), ['m1000', 'm1001', 'm1002', 'm1003', 'm1004'])
  assert.equal(broker.queueStats('q').depth, 300, 'the unselected messages stay')
  const rest = collector(broker, 'q', { owner: 'rest' })
  await until(() => rest.got.length === 300, 5000, 'the rest to an unfiltered consumer')
  assert.equal(rest.texts()[0], 'm0', 'in order')
})

test('returned messages are selected again; JMSRedelivered and JMSXDeliveryCount are known', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('q')
  const first = collector(broker, 'q', { owner: 'first', noAck: false })
  await broker.sendToQueue('q', numbered(0, 10))
  await until(() => first.got.length === 10, 5000, 'first takes all ten')
  queue.cancel(first.consumer)
  const fresh = collector(broker, 'q', { owner: 'fresh', selector: 'JMSRedelivered = FALSE' })
  const again = collector(broker, 'q', {
    owner: 'again',
    selector: 'JMSXDeliveryCount = 2 AND n >= 5 AND JMSRedelivered',
  })
  for (const d of first.got) broker.deliveries.nack(d, true)
  await until(() => again.got.length === 5, 5000, 'the returned n >= 5')
  await sleep(50)
  assert.deepEqual(again.texts(), ['m5', 'm6', 'm7', 'm8', 'm9'])
  assert.deepEqual(fresh.texts(), [], 'nothing fresh')
  assert.equal(broker.queueStats('q').depth, 5, 'the returned n < 5 stay')
  await broker.sendToQueue('q', numbered(10, 1))
  await until(() => fresh.got.length === 1, 5000, 'a fresh message')
  assert.equal(text(fresh.got[0]!), 'm10')
})

test('get (pull) takes a selector too', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', numbered(0, 20))
  const got = await broker.get('q', { owner: 'p', max: 100, noAck: true, selector: 'n BETWEEN 3 AND 5' })
  assert.deepEqual(got.map(text), ['m3', 'm4', 'm5'])
  const compiled = compileSelector("half = '1'", { convertStringExpressions: true })!
  const converted = await broker.get('q', { owner: 'p', max: 100, noAck: true, selector: compiled })
  assert.equal(converted.length, 8, 'a compiled selector keeps its options (string conversion)')
  assert.equal(broker.queueStats('q').depth, 9)
})

test('an invalid selector is refused with INVALID_ARGUMENT and no consumer is added', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  assert.throws(
    () => broker.consume('q', { owner: 'x', selector: 'n >', onDeliver: () => {} }),
    (error: unknown) => isWharfError(error) && error.code === 'INVALID_ARGUMENT' && /position 3/.test(error.message),
  )
  assert.equal(broker.queueStats('q').consumers, 0)
  await assert.rejects(broker.get('q', { owner: 'p', selector: "a LIKE 'x' ESCAPE 'yy'" }), /ESCAPE/)
})

test('a higher priority selective consumer that finds nothing lets the lower group serve', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const high = collector(broker, 'q', { owner: 'high', priority: 10, selector: 'half = 1' })
  const low = collector(broker, 'q', { owner: 'low', priority: 0 })
  await broker.sendToQueue('q', numbered(0, 20))
  await until(() => high.got.length + low.got.length === 20, 5000, '20 deliveries')
  assert.equal(high.got.length, 10)
  assert.ok(low.got.every((d) => Number(text(d).slice(1)) % 2 === 0))
})

test('one message at a time: the selective consumer still gets every match (it keeps its turn)', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const odd = collector(broker, 'q', { owner: 'odd', selector: 'half = 1' })
  const all = collector(broker, 'q', { owner: 'all' })
  for (let i = 0; i < 20; i++) {
    await broker.sendToQueue('q', numbered(i, 1))
    await until(() => odd.got.length + all.got.length === i + 1, 5000, `message ${i}`)
  }
  assert.deepEqual(odd.texts(), ['m1', 'm3', 'm5', 'm7', 'm9', 'm11', 'm13', 'm15', 'm17', 'm19'])
})
