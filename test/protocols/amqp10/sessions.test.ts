// Sessions of one connection are independent (rhea over TCP): an attach still being set up holds the frames
// of its own session behind it, in order, and never another session's.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { EventContext, Receiver, Sender } from 'rhea'
import { connect, startWharf } from './helpers.ts'

const opened = (link: Receiver | Sender, event: 'receiver_open' | 'sendable') =>
  new Promise<void>((resolve) => link.once(event, () => resolve()))

/** Whether `promise` settles within `ms`. */
const within = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])

test('an attach being set up holds only its own session: another session on the connection sends and receives meanwhile', async (t) => {
  const wharf = await startWharf(t)
  await wharf.broker.createQueue('fast', {})
  // The broker creates the slow attach's queue only when the test says so: the attach is set up for as long
  // as the test needs, with no hook in the code under test.
  const createQueue = wharf.broker.createQueue.bind(wharf.broker)
  let letCreate!: () => void
  const creating = new Promise<void>((resolve) => {
    letCreate = resolve
  })
  wharf.broker.createQueue = (async (...args: Parameters<typeof createQueue>) => {
    await creating
    return createQueue(...args)
  }) as typeof createQueue
  const connection = await connect(t, wharf)

  // Session A: a receiver on a queue that does not exist yet (created on attach), then one on an existing queue,
  // pipelined behind it.
  const a = connection.create_session()
  a.begin()
  const slow = a.open_receiver({ source: 'created-on-attach', credit_window: 10 })
  const slowOpen = opened(slow, 'receiver_open')
  const behind = a.open_receiver({ source: 'fast', credit_window: 0 })
  const behindOpen = opened(behind, 'receiver_open')

  // Session B, meanwhile: a sender and a receiver on the existing queue, and a message through them.
  const b = connection.create_session()
  b.begin()
  const sender = b.open_sender('fast')
  assert.ok(await within(opened(sender, 'sendable'), 10_000), "session B's sender is attached while A's attach waits")
  const receiver = b.open_receiver({ source: 'fast', credit_window: 10 })
  const got = new Promise<string>((resolve) =>
    receiver.once('message', (ctx: EventContext) => resolve(ctx.message!.body)),
  )
  sender.send({ body: 'through B' })
  assert.ok(await within(got, 10_000), "session B's message arrives while A's attach waits")
  assert.equal(await got, 'through B')

  // Session A's frames kept their order: the link attached after the slow one is not set up before it.
  assert.equal(await within(slowOpen, 200), false, 'the slow attach is still being set up')
  assert.equal(await within(behindOpen, 200), false, 'the attach behind it in session A waits, in order')
  letCreate()
  await slowOpen
  await behindOpen
  // The slow receiver works: its flow, sent right after the attach, was applied to it.
  const late = new Promise<string>((resolve) => slow.once('message', (ctx: EventContext) => resolve(ctx.message!.body)))
  const toCreated = b.open_sender('created-on-attach')
  await opened(toCreated, 'sendable')
  toCreated.send({ body: 'to the created queue' })
  assert.equal(await late, 'to the created queue')
})
