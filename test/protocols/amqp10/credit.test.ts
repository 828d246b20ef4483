// A client's receiver never gets more unsettled deliveries than its link credit, however late the leases end,
// and a pre-settled receiver gets everything (its credit comes back as each delivery is written).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, startWharf } from './helpers.ts'

test('rhea with credit 3 accepting late never holds more than 3 unsettled deliveries, and gets all 60', async (t) => {
  const wharf = await startWharf(t)
  await wharf.broker.createQueue('credit', {})
  await wharf.broker.sendToQueue(
    'credit',
    Array.from({ length: 60 }, (_, i) => ({ value: `m-${i}` })),
  )
  const connection = await connect(t, wharf)
  // Credit by hand: 3, and one more as each delivery is accepted (rhea's credit_window tops up on arrival).
  const receiver = connection.open_receiver({ source: 'credit', autoaccept: false, credit_window: 0 })
  receiver.add_credit(3)
  let outstanding = 0
  let most = 0
  let received = 0
  await new Promise<void>((resolve) =>
    receiver.on('message', (ctx) => {
      outstanding++
      received++
      most = Math.max(most, outstanding)
      setTimeout(() => {
        ctx.delivery!.accept()
        outstanding--
        receiver.add_credit(1)
        if (received === 60 && outstanding === 0) resolve()
      }, 5)
    }),
  )
  assert.equal(received, 60)
  assert.ok(most <= 3, `${most} deliveries unsettled at once with credit 3`)
})

test('a pre-settled rhea receiver (snd-settle-mode settled) with credit 5 gets all 300 messages', async (t) => {
  const wharf = await startWharf(t)
  await wharf.broker.createQueue('presettled', {})
  await wharf.broker.sendToQueue(
    'presettled',
    Array.from({ length: 300 }, (_, i) => ({ value: `m-${i}` })),
  )
  const connection = await connect(t, wharf)
  const receiver = connection.open_receiver({ source: 'presettled', snd_settle_mode: 1, credit_window: 5 })
  let received = 0
  await new Promise<void>((resolve) =>
    receiver.on('message', () => {
      if (++received === 300) resolve()
    }),
  )
  const stats = wharf.broker.queueStats('presettled')
  assert.equal(stats.deliveredTotal, 300)
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(wharf.broker.queueStats('presettled').depth, 0)
})
