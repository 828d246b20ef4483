// rhea over TCP: drain, every outcome of a receiver, and messages of several MiB both ways.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import rhea, { type Connection, type EventContext, type Sender } from 'rhea'
import { connect, startWharf, type Wharf } from './helpers.ts'

async function sendAll(connection: Connection, address: string, bodies: Array<string | Buffer>): Promise<void> {
  const sender = connection.open_sender(address)
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()))
  await sendOn(sender, bodies)
  sender.close()
}

function sendOn(sender: Sender, bodies: Array<string | Buffer>): Promise<void> {
  let accepted = 0
  return new Promise<void>((resolve, reject) => {
    sender.on('accepted', () => {
      if (++accepted === bodies.length) resolve()
    })
    sender.on('rejected', (ctx) => reject(new Error(`rejected: ${JSON.stringify(ctx.delivery?.remote_state)}`)))
    for (const body of bodies)
      sender.send({ body: typeof body === 'string' ? body : rhea.message.data_section(body), durable: true })
  })
}

/** A data section's bytes (rhea gives a section object, or the bytes themselves). */
const bytesOf = (body: unknown): Buffer =>
  Buffer.isBuffer(body) ? body : Buffer.from((body as { content: Buffer }).content)

const text = (body: unknown): string =>
  typeof body === 'string' ? body : Buffer.from((body as { content: Buffer }).content).toString()

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** rhea keeps a receiver's credit and delivery-count on the link; its typings leave them out. */
const creditOf = (link: unknown) => link as { credit: number; delivery_count: number }

const depth = (wharf: Wharf, queue: string) =>
  wharf.broker.getQueue(queue) === undefined ? 0 : wharf.broker.queueStats(queue).depth

test('drain: the broker sends what the queue has, then spends the rest of the credit and says so', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  await sendAll(connection, 'drained', ['a', 'b', 'c'])
  const receiver = connection.open_receiver({ source: 'drained', credit_window: 0, autoaccept: true })
  await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()))
  const got: string[] = []
  receiver.on('message', (ctx: EventContext) => got.push(text(ctx.message!.body)))
  const drained = new Promise<void>((resolve) => receiver.once('receiver_drained', () => resolve()))
  receiver.drain = true
  receiver.add_credit(10)
  await drained
  assert.deepEqual(got, ['a', 'b', 'c'])
  assert.equal(creditOf(receiver).credit, 0)
  // 3 delivered + 7 credit spent by the drain: the delivery-count advanced by the whole credit.
  assert.equal(creditOf(receiver).delivery_count, 10)
  // A drain on an empty queue is answered at once.
  receiver.drain = true
  receiver.add_credit(5)
  await new Promise<void>((resolve) => receiver.once('receiver_drained', () => resolve()))
  assert.equal(creditOf(receiver).credit, 0)
  assert.equal(creditOf(receiver).delivery_count, 15)
  assert.deepEqual(got, ['a', 'b', 'c'])
  // Credit after a drain works as before.
  receiver.drain = false
  await sendAll(connection, 'drained', ['d'])
  receiver.add_credit(1)
  await until(() => got.length === 4, 'the message after the drain')
  assert.equal(got[3], 'd')
})

test('outcomes: accepted acks, rejected and modified undeliverable-here dead-letter, released and modified return', async (t) => {
  const wharf = await startWharf(t)
  await wharf.broker.createQueue('jobs', { durable: true, deadLetter: { queue: 'jobs.dlq', create: true } })
  const connection = await connect(t, wharf)
  await sendAll(connection, 'jobs', ['accept', 'reject', 'release', 'failed', 'elsewhere'])
  const receiver = connection.open_receiver({ source: 'jobs', credit_window: 0, autoaccept: false })
  const first = new Map<string, EventContext>()
  receiver.on('message', (ctx: EventContext) => {
    const body = text(ctx.message!.body)
    if (!first.has(body)) first.set(body, ctx)
  })
  receiver.add_credit(5)
  await until(() => first.size === 5, 'five deliveries')
  assert.equal(first.get('accept')!.message!.delivery_count ?? 0, 0)
  // One outcome per turn: rhea 3 merges consecutive deliveries settled in one turn into one disposition range
  // carrying the first one's outcome, whatever the others' were.
  const settle = async (act: () => void) => {
    act()
    await new Promise((r) => setTimeout(r, 20))
  }
  await settle(() => first.get('accept')!.delivery!.accept())
  await settle(() => first.get('reject')!.delivery!.reject({ condition: 'app:bad', description: 'no' }))
  await settle(() => first.get('release')!.delivery!.release())
  await settle(() => first.get('failed')!.delivery!.modified({ delivery_failed: true }))
  await settle(() => first.get('elsewhere')!.delivery!.modified({ undeliverable_here: true }))
  // Rejected and undeliverable-here go to the dead-letter queue; accepted is gone; the two others return.
  await until(() => depth(wharf, 'jobs.dlq') === 2, 'two dead letters')
  await until(() => depth(wharf, 'jobs') === 2, 'two returned messages')
  const again = new Map<string, number>()
  receiver.on('message', (ctx: EventContext) => {
    again.set(text(ctx.message!.body), ctx.message!.delivery_count ?? 0)
    ctx.delivery!.accept()
  })
  receiver.add_credit(2)
  await until(() => again.size === 2, 'the two redeliveries')
  assert.deepEqual([...again.keys()].sort(), ['failed', 'release'])
  // modified with delivery-failed counts the failed attempt in header.delivery-count.
  assert.equal(again.get('failed'), 1)
  const dead: string[] = []
  const dlq = connection.open_receiver({ source: 'jobs.dlq', credit_window: 10, autoaccept: true })
  dlq.on('message', (ctx: EventContext) => dead.push(text(ctx.message!.body)))
  await until(() => dead.length === 2, 'the dead letters')
  assert.deepEqual(dead.sort(), ['elsewhere', 'reject'])
  await until(() => depth(wharf, 'jobs') === 0 && depth(wharf, 'jobs.dlq') === 0, 'both queues empty')
})

test('released does not count toward the delivery limit; modified with delivery-failed does', async (t) => {
  const wharf = await startWharf(t)
  await wharf.broker.createQueue('limited', {
    durable: true,
    maxDeliveries: 2,
    deadLetter: { queue: 'limited.dlq', create: true },
  })
  const connection = await connect(t, wharf)
  await sendAll(connection, 'limited', ['job'])
  const receiver = connection.open_receiver({ source: 'limited', credit_window: 0, autoaccept: false })
  const deliveries: EventContext[] = []
  receiver.on('message', (ctx: EventContext) => deliveries.push(ctx))
  /** One more delivery of the message, settled by `outcome`; its header's delivery-count. */
  const deliverAndSettle = async (outcome: (ctx: EventContext) => void): Promise<number> => {
    const before = deliveries.length
    receiver.add_credit(1)
    await until(() => deliveries.length === before + 1, `delivery ${before + 1}`)
    const ctx = deliveries[before]!
    outcome(ctx)
    return ctx.message!.delivery_count ?? 0
  }
  // Released five times on a queue that dead-letters at its second counted delivery: never dead-lettered, and
  // every delivery's header says delivery-count 0 (Part 3.4.4: released means it was not delivered).
  for (let i = 0; i < 5; i++) assert.equal(await deliverAndSettle((ctx) => ctx.delivery!.release()), 0)
  // modified without delivery-failed does not count either (Part 3.4.5).
  assert.equal(await deliverAndSettle((ctx) => ctx.delivery!.modified({})), 0)
  assert.equal(depth(wharf, 'limited.dlq'), 0)
  // modified with delivery-failed counts: the first failure shows on the next delivery, the second one is the
  // queue's second counted delivery, so the message is dead-lettered.
  assert.equal(await deliverAndSettle((ctx) => ctx.delivery!.modified({ delivery_failed: true })), 0)
  assert.equal(await deliverAndSettle((ctx) => ctx.delivery!.modified({ delivery_failed: true })), 1)
  await until(() => depth(wharf, 'limited.dlq') === 1 && depth(wharf, 'limited') === 0, 'the dead letter')
})

test('large messages (4 MiB) go both ways over many frames, byte for byte; one over the queue limit is rejected', async (t) => {
  const wharf = await startWharf(t)
  // A small max-frame-size on the client: a message crosses 60 to 260 frames each way.
  const connection = await connect(t, wharf, { max_frame_size: 16 * 1024 })
  const big = (size: number, seed: number) => {
    const b = Buffer.alloc(size)
    for (let i = 0; i < b.length; i += 512) b[i] = (i / 512 + seed) & 0xff
    return b
  }
  // A queue's stream takes messages up to its maxMessageBytes (16 MiB by default, as brokers with queues do).
  const bodies = [big(4 * 1024 * 1024, 1), big(1000 * 1024 + 7, 2)]
  await sendAll(connection, 'large', bodies)
  assert.equal(depth(wharf, 'large'), 2)
  const got: Buffer[] = []
  const receiver = connection.open_receiver({ source: 'large', credit_window: 2, autoaccept: true })
  receiver.on('message', (ctx: EventContext) => got.push(bytesOf(ctx.message!.body)))
  await until(() => got.length === 2, 'two large messages')
  assert.ok(got[0]!.equals(bodies[0]!))
  assert.ok(got[1]!.equals(bodies[1]!))
  receiver.close()
  // A queue altered to a smaller limit rejects what is over it (the rejected outcome names the limit).
  await wharf.broker.alterStream('large', { maxMessageBytes: 2 * 1024 * 1024 })
  await assert.rejects(sendAll(connection, 'large', [big(3 * 1024 * 1024, 3)]), /exceeds 2097152/)
  // The link and the connection stay usable.
  await sendAll(connection, 'large', ['small'])
  assert.equal(depth(wharf, 'large'), 1)
})
