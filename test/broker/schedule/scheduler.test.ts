// The durable scheduler through the embedded API: delay, period and repeat, cron cycles (advance() on a fixed
// clock), jobs surviving a restart (due later: delivered then; overdue: delivered once, missed repeats not made
// up), the bounds, removal.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { advance, type JobRecord } from '../../../src/broker/schedule/job.ts'
import { createBroker } from '../../../src/index.ts'
import { isWharfError } from '../../../src/util/errors.ts'
import { openBroker, sleep, tempDir, text, until } from '../helpers.ts'

const message = (body: string) => ({ value: body, headers: [{ key: 'h', value: Buffer.from('v') }] })

test('period and repeat: repeat + 1 copies, period apart, headers kept; the job is gone after', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const started = Date.now()
  await broker.scheduler.add({ exchange: '', routingKey: 'q', message: message('tick'), periodMs: 200, repeat: 3 })
  assert.equal(broker.scheduler.size, 1)
  const got: number[] = []
  broker.consume('q', {
    owner: 'c',
    noAck: true,
    onDeliver: (ds) => {
      for (const d of ds) {
        assert.equal(text(d), 'tick')
        assert.equal(d.message.headers.find((h) => h.key === 'h')?.value?.toString(), 'v')
        got.push(Date.now() - started)
      }
    },
  })
  await until(() => got.length === 4, 10_000, '4 copies')
  await sleep(500)
  assert.equal(got.length, 4, 'no fifth copy')
  assert.ok(got[3]! >= 600, `the last copy comes 3 periods after the first (${got.join(',')})`)
  await until(() => broker.scheduler.size === 0, 2000, 'job deleted')
})

test('a delayed job survives a restart; an overdue one is delivered once, its missed repeats skipped', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  await broker.createQueue('later')
  await broker.createQueue('overdue')
  await broker.scheduler.add({ exchange: '', routingKey: 'later', message: message('L'), delayMs: 1500 })
  await broker.scheduler.add({
    exchange: '',
    routingKey: 'overdue',
    message: message('O'),
    delayMs: 100,
    periodMs: 100,
    repeat: 5,
  })
  const addedAt = Date.now()
  await broker.close()
  await sleep(900) // every delivery of 'overdue' falls due while the broker is down; 'later' does not
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  assert.equal(broker.scheduler.size, 2, 'both jobs were stored')
  await until(() => broker.getQueue('overdue')!.depth() >= 1, 5000, 'overdue delivered')
  await until(() => broker.getQueue('later')!.depth() === 1, 5000, 'later delivered')
  assert.ok(Date.now() - addedAt >= 1500, 'not before its delay')
  await sleep(400)
  assert.equal(broker.getQueue('overdue')!.depth(), 1, 'overdue: once, missed repeats not made up')
  assert.equal(broker.scheduler.size, 0)
})

test('cron cycles: delay, period and repeat apply per cron time; overdue cycles skip to the next', () => {
  const minute = 60_000
  const base = Date.UTC(2026, 2, 1, 10, 0)
  const job: JobRecord = {
    id: 'j',
    exchange: '',
    routingKey: 'q',
    message: { key: null, value: null, headers: [] },
    bytes: 0,
    delayMs: 1000,
    periodMs: 2000,
    repeat: 1,
    cron: '*/5 * * * *',
    cycleAt: base,
    left: 2,
    next: base + 1000,
    createdAt: base,
  }
  assert.equal(advance(job, base + 1000, 'utc', false), true)
  assert.equal(job.next, base + 3000, 'the repeat, a period later')
  assert.equal(advance(job, base + 3000, 'utc', false), true)
  assert.equal(job.cycleAt, base + 5 * minute, 'the next cron time')
  assert.equal(job.next, base + 5 * minute + 1000)
  // Down for an hour: one late delivery, then the next cycle after now.
  const now = base + 65 * minute + 30_000
  assert.equal(advance(job, now, 'utc', true), true)
  assert.equal(job.cycleAt, base + 70 * minute)
  assert.equal(job.left, 2)
})

test('bounds and refusals: jobs, bytes, delays, repeat, cron', async (t) => {
  const dir = tempDir(t)
  const broker = await createBroker({ dataDir: dir, scheduleLimits: { jobsMax: 2, bytesMax: 100, delayMaxMs: 10_000 } })
  t.after(() => broker.close())
  const add = (extra: object, body = 'x') =>
    broker.scheduler.add({ exchange: '', routingKey: 'q', message: { value: body }, delayMs: 5000, ...extra })
  const refused = (code: 'LIMIT_EXCEEDED' | 'INVALID_ARGUMENT') => (e: unknown) => isWharfError(e, code)
  await assert.rejects(add({}, 'y'.repeat(101)), refused('LIMIT_EXCEEDED'))
  await assert.rejects(add({ delayMs: 10_001 }), refused('INVALID_ARGUMENT'))
  await assert.rejects(add({ periodMs: -1 }), refused('INVALID_ARGUMENT'))
  await assert.rejects(add({ repeat: 1.5 }), refused('INVALID_ARGUMENT'))
  await assert.rejects(add({ cron: '* * *' }), refused('INVALID_ARGUMENT'))
  await assert.rejects(add({ cron: '0 0 30 2 *' }), refused('INVALID_ARGUMENT'))
  const first = await add({})
  await add({})
  await assert.rejects(add({}), refused('LIMIT_EXCEEDED'))
  assert.equal(await broker.scheduler.remove(first), true)
  assert.equal(await broker.scheduler.remove(first), false)
  await add({ cron: '0 12 * * *' })
  assert.equal(broker.scheduler.size, 2)
  assert.throws(
    () => broker.publish('', 'q', { value: 'late', delayMs: 10_001 }),
    refused('INVALID_ARGUMENT'),
    'a message delay over the bound is refused too',
  )
})
