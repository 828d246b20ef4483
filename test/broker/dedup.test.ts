import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { DEFAULT_DEDUP_MAX_ENTRIES, DEFAULT_DEDUP_WINDOW_MS, DedupWindow } from '../../src/broker/dedup/window.ts'
import { isWharfError } from '../../src/util/errors.ts'

const runs = process.env.WHARF_LONG === '1' ? 2_000 : 200

test('defaults: SQS FIFO 5-minute window, 100k entries', () => {
  const window = new DedupWindow()
  assert.equal(window.windowMs, DEFAULT_DEDUP_WINDOW_MS)
  assert.equal(window.windowMs, 300_000)
  assert.equal(window.maxEntries, DEFAULT_DEDUP_MAX_ENTRIES)
  assert.equal(window.maxEntries, 100_000)
})

test('a recorded id is a duplicate with its original position until the window ends', () => {
  const window = new DedupWindow({ windowMs: 1000 })
  assert.deepEqual(window.check('a', 0), { duplicate: false })
  window.record('a', 2, 40, 100)
  assert.deepEqual(window.check('a', 100), { duplicate: true, partition: 2, offset: 40 })
  assert.deepEqual(window.check('a', 1099), { duplicate: true, partition: 2, offset: 40 })
  // The window ends even without expire(): check compares timestamps itself.
  assert.deepEqual(window.check('a', 1100), { duplicate: false })
  assert.deepEqual(window.check('b', 500), { duplicate: false })
  assert.equal(window.size, 1)
})

test('expire removes ended ids oldest first and returns how many', () => {
  const window = new DedupWindow({ windowMs: 1000 })
  window.record('a', 0, 0, 0)
  window.record('b', 0, 1, 100)
  window.record('c', 0, 2, 200)
  assert.equal(window.expire(999), 0)
  assert.equal(window.expire(1100), 2)
  assert.equal(window.size, 1)
  assert.deepEqual(window.check('c', 1100), { duplicate: true, partition: 0, offset: 2 })
  assert.equal(window.expire(5000), 1)
  assert.equal(window.size, 0)
  assert.equal(window.expire(6000), 0)
})

test('re-recording an id replaces it: the old record neither expires it nor counts twice', () => {
  const window = new DedupWindow({ windowMs: 1000 })
  window.record('a', 0, 1, 0)
  window.record('b', 0, 2, 10)
  window.record('a', 1, 9, 1500) // the first 'a' had ended; the id was published again
  assert.equal(window.size, 2)
  assert.equal(window.expire(1200), 1) // only 'b'; the stale node of 'a' is skipped
  assert.deepEqual(window.check('a', 1200), { duplicate: true, partition: 1, offset: 9 })
  assert.equal(window.expire(2500), 1)
  assert.equal(window.size, 0)
})

test('the entry cap evicts the oldest id even inside its window (documented: a very old duplicate gets through)', () => {
  const window = new DedupWindow({ windowMs: 60_000, maxEntries: 3 })
  for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) window.record(id, 0, i, i)
  assert.equal(window.size, 3)
  assert.deepEqual(window.check('a', 10), { duplicate: false })
  assert.deepEqual(window.check('b', 10), { duplicate: true, partition: 0, offset: 1 })
  window.record('b', 0, 7, 20) // re-record: still 3 ids, and 'b' is now the newest
  window.record('e', 0, 8, 21)
  assert.equal(window.size, 3)
  assert.deepEqual(window.check('c', 30), { duplicate: false })
  assert.deepEqual(window.check('b', 30), { duplicate: true, partition: 0, offset: 7 })
})

test('re-records keep the expiry FIFO bounded; under the cap the newest ids survive', () => {
  const window = new DedupWindow({ windowMs: 1_000_000, maxEntries: 5_000 })
  // Only few distinct ids: every record supersedes an earlier one and the cap never evicts.
  for (let i = 0; i < 20_000; i++) {
    window.record(`r-${i % 7}`, 0, i, i)
    assert.ok(window.queued <= 2 * window.size + 1024, `queued ${window.queued} at ${i}`)
  }
  assert.equal(window.size, 7)
  window.rebuild([])
  assert.equal(window.queued, 0)
  const capped = new DedupWindow({ windowMs: 1_000_000, maxEntries: 50 })
  for (let i = 0; i < 20_000; i++) {
    capped.record(`id-${i % 60}`, i % 3, i, i)
    // Superseded records are compacted away: the FIFO stays bounded by the live count, not by the calls made.
    assert.ok(capped.queued <= 2 * capped.size + 1024, `queued ${capped.queued} at ${i}`)
  }
  assert.equal(capped.size, 50)
  // The 50 most recently recorded ids survive: i % 60 for i in 19950..19999.
  for (let i = 19_950; i < 20_000; i++) {
    assert.deepEqual(capped.check(`id-${i % 60}`, 20_000), { duplicate: true, partition: i % 3, offset: i })
  }
  assert.equal(capped.expire(10_000_000), 50)
  assert.equal(capped.size, 0)
})

test('rebuild orders entries by timestamp, later wins, and skips entries already outside the window', () => {
  const window = new DedupWindow({ windowMs: 1000, maxEntries: 3 })
  window.record('stale', 0, 0, 0)
  // Two partitions scanned one after the other: timestamps interleave.
  const entries = [
    { id: 'x', partition: 0, offset: 10, timestamp: 500 },
    { id: 'y', partition: 0, offset: 11, timestamp: 900 },
    { id: 'old', partition: 0, offset: 12, timestamp: 50 },
    { id: 'x', partition: 1, offset: 3, timestamp: 800 },
    { id: 'z', partition: 1, offset: 4, timestamp: 600 },
    { id: 'w', partition: 1, offset: 5, timestamp: 950 },
  ]
  window.rebuild(entries, 1100)
  assert.deepEqual(window.check('stale', 1100), { duplicate: false })
  assert.deepEqual(window.check('old', 1100), { duplicate: false })
  assert.deepEqual(window.check('x', 1100), { duplicate: true, partition: 1, offset: 3 })
  // Cap 3 over x@800, y@900, w@950 and z@600: the cap drops z, the oldest by timestamp.
  assert.deepEqual(window.check('z', 1100), { duplicate: false })
  assert.deepEqual(window.check('y', 1100), { duplicate: true, partition: 0, offset: 11 })
  assert.deepEqual(window.check('w', 1100), { duplicate: true, partition: 1, offset: 5 })
  assert.equal(window.size, 3)
  // Expiry follows timestamp order after the rebuild.
  assert.equal(window.expire(1900), 2)
  assert.deepEqual(window.check('w', 1900), { duplicate: true, partition: 1, offset: 5 })
  // Without now, nothing is skipped up front (check still honours the window).
  const unfiltered = new DedupWindow({ windowMs: 1000 })
  unfiltered.rebuild(entries)
  assert.equal(unfiltered.size, 5)
  // Ids a raw Kafka record smuggled into the log are skipped, not fatal to the rebuild.
  const strict = new DedupWindow({ windowMs: 1000, maxIdLength: 4 })
  strict.rebuild([
    ...entries,
    { id: '', partition: 0, offset: 20, timestamp: 990 },
    { id: 'toolong', partition: 0, offset: 21, timestamp: 990 },
  ])
  assert.equal(strict.size, 5)
})

test('invalid ids and configuration are rejected with stable codes', () => {
  const window = new DedupWindow({ maxIdLength: 8 })
  assert.throws(
    () => window.check('', 0),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
  assert.throws(
    () => window.record('123456789', 0, 0, 0),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
  assert.doesNotThrow(() => window.record('12345678', 0, 0, 0))
  for (const options of [{ windowMs: 0 }, { maxEntries: -1 }, { maxEntries: 1.5 }, { maxIdLength: 0 }]) {
    assert.throws(
      () => new DedupWindow(options),
      (e) => isWharfError(e, 'INVALID_CONFIG'),
      JSON.stringify(options),
    )
  }
})

// A naive reference: a list of live records in record order, scanned on every call.
class ModelWindow {
  records: { id: string; partition: number; offset: number; timestamp: number }[] = []
  constructor(
    readonly windowMs: number,
    readonly maxEntries: number,
  ) {}
  check(id: string, now: number) {
    const r = this.records.find((x) => x.id === id)
    if (r === undefined || now - r.timestamp >= this.windowMs) return { duplicate: false }
    return { duplicate: true, partition: r.partition, offset: r.offset }
  }
  record(id: string, partition: number, offset: number, timestamp: number) {
    this.records = this.records.filter((x) => x.id !== id)
    this.records.push({ id, partition, offset, timestamp })
    while (this.records.length > this.maxEntries) this.records.shift()
  }
  expire(now: number) {
    const before = this.records.length
    this.records = this.records.filter((x) => now - x.timestamp < this.windowMs)
    return before - this.records.length
  }
}

test('property: matches a naive model under monotonic time (record, check, expire, rebuild)', () => {
  const op = fc.oneof(
    // Records advance time by >= 1 ms so timestamps are distinct and record order is timestamp order.
    fc.record({
      t: fc.constant('record' as const),
      id: fc.nat(12),
      partition: fc.nat(3),
      dt: fc.integer({ min: 1, max: 40 }),
    }),
    fc.record({ t: fc.constant('check' as const), id: fc.nat(12), dt: fc.nat(40) }),
    fc.record({ t: fc.constant('expire' as const), dt: fc.nat(60) }),
    fc.record({ t: fc.constant('rebuild' as const), dt: fc.nat(10) }),
  )
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 150 }),
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 8 }),
      (ops, windowMs, maxEntries) => {
        const window = new DedupWindow({ windowMs, maxEntries })
        const model = new ModelWindow(windowMs, maxEntries)
        let now = 0
        let offset = 0
        for (const o of ops) {
          now += o.dt
          if (o.t === 'record') {
            window.record(`m${o.id}`, o.partition, offset, now)
            model.record(`m${o.id}`, o.partition, offset, now)
            offset++
          } else if (o.t === 'check') {
            assert.deepEqual(window.check(`m${o.id}`, now), model.check(`m${o.id}`, now))
          } else if (o.t === 'expire') {
            assert.equal(window.expire(now), model.expire(now))
            assert.equal(window.size, model.records.length)
          } else {
            // Restart: rebuild from what the log would hold (the model's live records, shuffled by partition).
            const entries = [...model.records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)
            window.rebuild(entries, now)
            model.expire(now)
            assert.equal(window.size, model.records.length)
          }
        }
        for (let id = 0; id <= 12; id++) assert.deepEqual(window.check(`m${id}`, now), model.check(`m${id}`, now))
      },
    ),
    { numRuns: runs },
  )
})
