import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  type BatchIdentity,
  INT32_MAX,
  incrementSequence,
  PartitionProducerState,
  type ProducerCheck,
  ProducerIdAllocator,
  type ProducerSnapshot,
} from '../../src/broker/idempotence/producer-state.ts'
import { AssertionError } from '../../src/util/assert.ts'
import { isWharfError } from '../../src/util/errors.ts'

const runs = process.env.WHARF_LONG === '1' ? 2_000 : 150

// A tiny log: assigns offsets and applies check() the way the broker core is meant to.
class Log {
  state = new PartitionProducerState()
  next = 0
  readonly appended: { batch: BatchIdentity; base: number; last: number; ts: number }[] = []

  produce(batch: BatchIdentity, ts = 1000): ProducerCheck {
    const result = this.state.check(batch)
    if (result.kind === 'append') {
      const base = this.next
      const last = base + batch.recordCount - 1
      this.next = last + 1
      this.state.recordAppend(batch, base, last, ts)
      this.appended.push({ batch, base, last, ts })
    }
    return result
  }
}

const b = (producerId: number, producerEpoch: number, baseSequence: number, recordCount = 1): BatchIdentity => ({
  producerId,
  producerEpoch,
  baseSequence,
  recordCount,
})

function errorCode(result: ProducerCheck): string | undefined {
  return result.kind === 'error' ? result.code : undefined
}

test('non-idempotent batches (producerId -1) are always appended and never tracked', () => {
  const log = new Log()
  // librdkafka / kafka-python: epoch -1, sequence -1; kafkajs: epoch 0, sequence 0 (identical every time).
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(log.produce(b(-1, -1, -1, 2)), { kind: 'append' })
    assert.deepEqual(log.produce(b(-1, 0, 0, 3)), { kind: 'append' })
  }
  assert.equal(log.state.size, 0)
  assert.equal(log.state.endOffset, 15)
  assert.equal(log.appended.length, 6)
})

test('a new producer starts tracking; in-sequence batches are appended', () => {
  const log = new Log()
  assert.deepEqual(log.produce(b(7, 0, 0, 3)), { kind: 'append' })
  assert.equal(log.state.size, 1)
  assert.deepEqual(log.produce(b(7, 0, 3, 2)), { kind: 'append' })
  assert.deepEqual(log.produce(b(7, 0, 5, 1)), { kind: 'append' })
  assert.equal(log.next, 6)
})

test('an unknown producer with a non-zero sequence is accepted and tracked (Kafka >= 2.5)', () => {
  const log = new Log()
  assert.deepEqual(log.produce(b(9, 3, 42, 2)), { kind: 'append' })
  assert.deepEqual(log.produce(b(9, 3, 44)), { kind: 'append' })
  assert.equal(errorCode(log.produce(b(9, 3, 46))), 'OUT_OF_ORDER_SEQUENCE')
})

test('retries of each of the last 5 batches are duplicates with the original offsets; the 6th oldest is out of order', () => {
  const log = new Log()
  const sent: { seq: number; count: number; base: number; last: number }[] = []
  let seq = 0
  for (let i = 0; i < 6; i++) {
    const count = i + 1
    const base = log.next
    assert.deepEqual(log.produce(b(1, 0, seq, count)), { kind: 'append' })
    sent.push({ seq, count, base, last: base + count - 1 })
    seq += count
  }
  const end = log.next
  for (const s of sent.slice(1)) {
    assert.deepEqual(log.state.check(b(1, 0, s.seq, s.count)), {
      kind: 'duplicate',
      baseOffset: s.base,
      lastOffset: s.last,
    })
  }
  const oldest = sent[0]!
  assert.equal(errorCode(log.state.check(b(1, 0, oldest.seq, oldest.count))), 'OUT_OF_ORDER_SEQUENCE')
  // Duplicates are not appended.
  for (const s of sent.slice(1)) log.produce(b(1, 0, s.seq, s.count))
  assert.equal(log.next, end)
})

test('a retry with the same first but a different last sequence is not a duplicate', () => {
  const log = new Log()
  log.produce(b(1, 0, 0, 4))
  assert.equal(errorCode(log.state.check(b(1, 0, 0, 3))), 'OUT_OF_ORDER_SEQUENCE')
  assert.equal(errorCode(log.state.check(b(1, 0, 0, 5))), 'OUT_OF_ORDER_SEQUENCE')
})

test('gaps, overlaps and negative sequences are OUT_OF_ORDER_SEQUENCE', () => {
  const log = new Log()
  log.produce(b(1, 0, 0, 5))
  const gap = log.state.check(b(1, 0, 6))
  assert.equal(errorCode(gap), 'OUT_OF_ORDER_SEQUENCE')
  assert.match((gap as { message: string }).message, /expected sequence 5, got 6/)
  assert.equal(errorCode(log.state.check(b(1, 0, 4, 2))), 'OUT_OF_ORDER_SEQUENCE')
  assert.equal(errorCode(log.state.check(b(1, 0, 2))), 'OUT_OF_ORDER_SEQUENCE')
  assert.equal(errorCode(log.state.check(b(1, 0, -1))), 'OUT_OF_ORDER_SEQUENCE')
  assert.equal(errorCode(new PartitionProducerState().check(b(2, 0, -1))), 'OUT_OF_ORDER_SEQUENCE')
  assert.deepEqual(log.state.check(b(1, 0, 5)), { kind: 'append' })
})

test('an epoch bump must restart at sequence 0 and forgets the old epoch batches', () => {
  const log = new Log()
  log.produce(b(1, 0, 0, 2))
  log.produce(b(1, 0, 2, 2))
  assert.equal(errorCode(log.state.check(b(1, 1, 4))), 'OUT_OF_ORDER_SEQUENCE')
  assert.equal(errorCode(log.state.check(b(1, 5, 1))), 'OUT_OF_ORDER_SEQUENCE')
  assert.deepEqual(log.produce(b(1, 1, 0, 2)), { kind: 'append' })
  // Retried old-epoch batches are now fenced, not duplicates.
  assert.equal(errorCode(log.state.check(b(1, 0, 2, 2))), 'INVALID_PRODUCER_EPOCH')
  // The new epoch continues from its own sequence, and its batch is a duplicate under the new epoch.
  assert.deepEqual(log.state.check(b(1, 1, 0, 2)), { kind: 'duplicate', baseOffset: 4, lastOffset: 5 })
  assert.deepEqual(log.state.check(b(1, 1, 2)), { kind: 'append' })
  assert.equal(log.state.snapshot().producers[0]!.batches.length, 1)
})

test('a fenced (older) epoch gets INVALID_PRODUCER_EPOCH, whatever its sequence', () => {
  const log = new Log()
  log.produce(b(1, 3, 0))
  for (const seq of [0, 1, 2, 100]) {
    const result = log.state.check(b(1, 2, seq))
    assert.equal(errorCode(result), 'INVALID_PRODUCER_EPOCH')
    assert.match((result as { message: string }).message, /epoch 2 is older than the current epoch 3/)
  }
})

test('sequences wrap from int32 max to 0, inside a batch and between batches', () => {
  assert.equal(incrementSequence(INT32_MAX, 1), 0)
  assert.equal(incrementSequence(INT32_MAX - 1, 3), 1)
  assert.equal(incrementSequence(5, 3), 8)

  const log = new Log()
  log.produce(b(1, 0, INT32_MAX - 2, 3)) // ends exactly at int32 max
  assert.deepEqual(log.state.check(b(1, 0, 0, 2)), { kind: 'append' })
  assert.equal(errorCode(log.state.check(b(1, 0, 1))), 'OUT_OF_ORDER_SEQUENCE')
  assert.equal(errorCode(log.state.check(b(1, 0, INT32_MAX))), 'OUT_OF_ORDER_SEQUENCE')
  log.produce(b(1, 0, 0, 2))
  log.produce(b(1, 0, 2, 1))
  log.produce(b(1, 0, 3, 1))

  const wrap = new Log()
  wrap.produce(b(4, 0, INT32_MAX - 1, 1))
  assert.deepEqual(wrap.produce(b(4, 0, INT32_MAX, 3)), { kind: 'append' }) // MAX, 0, 1
  assert.deepEqual(wrap.state.check(b(4, 0, INT32_MAX, 3)), { kind: 'duplicate', baseOffset: 1, lastOffset: 3 })
  assert.deepEqual(wrap.state.check(b(4, 0, 2)), { kind: 'append' })
  assert.equal(errorCode(wrap.state.check(b(4, 0, 0))), 'OUT_OF_ORDER_SEQUENCE')
  const last = wrap.state.snapshot().producers[0]!.batches.at(-1)!
  assert.deepEqual([last.firstSequence, last.lastSequence], [INT32_MAX, 1])
})

test('check() never changes state', () => {
  const log = new Log()
  log.produce(b(1, 0, 0, 2))
  log.produce(b(2, 0, 0))
  const before = JSON.stringify(log.state.snapshot())
  for (const probe of [b(1, 0, 2), b(1, 0, 0, 2), b(1, 1, 0), b(1, 1, 3), b(3, 0, 9), b(-1, 0, 0), b(2, -1, 1)]) {
    log.state.check(probe)
  }
  assert.equal(JSON.stringify(log.state.snapshot()), before)
})

test('recordAppend of a batch check() would reject is an assertion (broker bug), not silent corruption', () => {
  const log = new Log()
  log.produce(b(1, 0, 0))
  assert.throws(() => log.state.recordAppend(b(1, 0, 5), 1, 1, 0), AssertionError)
  assert.throws(() => log.state.recordAppend(b(1, 0, 1, 2), 1, 1, 0), AssertionError) // span != recordCount
  assert.throws(() => log.state.recordAppend(b(1, 0, 1), 0, 0, 0), AssertionError) // offsets went backwards
  assert.throws(() => log.state.check(b(1, 0, 1, 0)), AssertionError)
})

test('snapshot survives JSON, restores, and the restored state continues exactly', () => {
  const log = new Log()
  log.produce(b(1, 0, 0, 2))
  log.produce(b(2, 4, 10, 3))
  log.produce(b(-1, 0, 0, 4))
  log.produce(b(1, 0, 2, 1))
  const snap = JSON.parse(JSON.stringify(log.state.snapshot())) as ProducerSnapshot
  assert.equal(snap.endOffset, 10)
  const restored = PartitionProducerState.restore(snap)
  assert.equal(restored.size, 2)
  assert.equal(restored.endOffset, 10)
  assert.deepEqual(restored.check(b(2, 4, 10, 3)), { kind: 'duplicate', baseOffset: 2, lastOffset: 4 })
  assert.deepEqual(restored.check(b(1, 0, 2)), { kind: 'duplicate', baseOffset: 9, lastOffset: 9 })
  assert.deepEqual(restored.check(b(1, 0, 3)), { kind: 'append' })
  assert.equal(errorCode(restored.check(b(2, 3, 0))), 'INVALID_PRODUCER_EPOCH')
  restored.recordAppend(b(1, 0, 3), 10, 10, 2000)
  assert.equal(errorCode(restored.check(b(1, 0, 3))), undefined)
  assert.deepEqual(restored.check(b(1, 0, 3)), { kind: 'duplicate', baseOffset: 10, lastOffset: 10 })
})

test('restore rejects malformed snapshots with STORE_CORRUPT', () => {
  const good = (): ProducerSnapshot => {
    const log = new Log()
    log.produce(b(1, 0, 0, 2))
    return JSON.parse(JSON.stringify(log.state.snapshot())) as ProducerSnapshot
  }
  const mutations: ((s: ProducerSnapshot) => unknown)[] = [
    () => null,
    (s) => ({ ...s, version: 2 }),
    (s) => ({ ...s, endOffset: -1 }),
    (s) => ({ ...s, endOffset: 1 }), // batch beyond endOffset
    (s) => ({ ...s, producers: {} }),
    (s) => ({ ...s, producers: [...s.producers, ...s.producers] }), // repeated id
    (s) => ({ ...s, producers: [{ ...s.producers[0]!, batches: [] }] }),
    (s) => ({ ...s, producers: [{ ...s.producers[0]!, producerEpoch: 40_000 }] }),
    (s) => ({ ...s, producers: [{ ...s.producers[0]!, producerId: 'x' }] }),
    (s) => ({
      ...s,
      producers: [{ ...s.producers[0]!, batches: [{ ...s.producers[0]!.batches[0]!, lastSequence: 7 }] }],
    }),
    (s) => ({
      ...s,
      producers: [{ ...s.producers[0]!, batches: [{ ...s.producers[0]!.batches[0]!, lastOffset: -5 }] }],
    }),
    (s) => {
      const batch = s.producers[0]!.batches[0]!
      return { ...s, producers: [{ ...s.producers[0]!, batches: [batch, batch] }] } // offsets not increasing
    },
  ]
  assert.doesNotThrow(() => PartitionProducerState.restore(good()))
  for (const [i, mutate] of mutations.entries()) {
    assert.throws(
      () => PartitionProducerState.restore(mutate(good()) as ProducerSnapshot),
      (e) => isWharfError(e, 'STORE_CORRUPT'),
      `mutation #${i}`,
    )
  }
})

test('replay skips batches the snapshot covers and tolerates compacted batches', () => {
  const log = new Log()
  log.produce(b(1, 0, 0, 3))
  const snap = log.state.snapshot()
  log.produce(b(1, 0, 3, 2))
  const restored = PartitionProducerState.restore(snap)
  // Replay from offset 0: the first batch is already covered and must not be applied twice.
  for (const a of log.appended) restored.replay(a.batch, a.base, a.last, a.ts)
  assert.deepEqual(restored.snapshot(), log.state.snapshot())
  // After compaction a batch keeps its offset span but may hold fewer records: the span decides the sequences.
  const compacted = new PartitionProducerState()
  compacted.replay(b(5, 0, 0, 1), 0, 9, 0)
  assert.deepEqual(compacted.check(b(5, 0, 10)), { kind: 'append' })
  assert.deepEqual(compacted.check(b(5, 0, 0, 10)), { kind: 'duplicate', baseOffset: 0, lastOffset: 9 })
})

test('expire forgets idle producers; a forgotten producer is accepted at any sequence', () => {
  const state = new PartitionProducerState()
  state.recordAppend(b(1, 0, 0), 0, 0, 1_000)
  state.recordAppend(b(2, 0, 0), 1, 1, 5_000)
  state.recordAppend(b(1, 0, 1), 2, 2, 2_000)
  assert.equal(state.expire(10_000, 9_000), 0)
  assert.equal(state.expire(11_000, 9_000), 1) // producer 1 last wrote at 2_000: 9_000 ms idle
  assert.equal(state.size, 1)
  assert.deepEqual(state.check(b(1, 0, 77)), { kind: 'append' })
  assert.equal(errorCode(state.check(b(2, 0, 77))), 'OUT_OF_ORDER_SEQUENCE')
  assert.equal(state.expire(14_000, 9_000), 1)
  assert.equal(state.size, 0)
})

test('maxProducers evicts the least recently appended producer, and restore keeps the newest', () => {
  const state = new PartitionProducerState({ maxProducers: 3 })
  let offset = 0
  const append = (pid: number, seq: number) => {
    state.recordAppend(b(pid, 0, seq), offset, offset, offset)
    offset++
  }
  append(1, 0)
  append(2, 0)
  append(3, 0)
  append(1, 1) // 1 becomes the most recent; 2 is now the oldest
  append(4, 0)
  assert.equal(state.size, 3)
  assert.deepEqual(
    state.snapshot().producers.map((p) => p.producerId),
    [3, 1, 4],
  )
  assert.deepEqual(state.check(b(2, 0, 9)), { kind: 'append' }) // forgotten
  assert.equal(errorCode(state.check(b(1, 0, 9))), 'OUT_OF_ORDER_SEQUENCE')
  const small = PartitionProducerState.restore(state.snapshot(), { maxProducers: 2 })
  assert.deepEqual(
    small.snapshot().producers.map((p) => p.producerId),
    [1, 4],
  )
  assert.throws(
    () => new PartitionProducerState({ maxProducers: 0 }),
    (e) => isWharfError(e, 'INVALID_CONFIG'),
  )
})

// --- property: live state == snapshot + replay of the tail == replay of the whole log --------------------------

type Op =
  | { t: 'next'; p: number; count: number }
  | { t: 'retry'; p: number; back: number }
  | { t: 'bump'; p: number; count: number }
  | { t: 'gap'; p: number; skip: number }
  | { t: 'plain'; count: number }
  | { t: 'fenced'; p: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ t: fc.constant('next' as const), p: fc.nat(3), count: fc.integer({ min: 1, max: 4 }) }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('retry' as const), p: fc.nat(3), back: fc.nat(7) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('bump' as const), p: fc.nat(3), count: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('gap' as const), p: fc.nat(3), skip: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('plain' as const), count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fenced' as const), p: fc.nat(3) }) },
)

// A client-side model of each producer: its epoch, next sequence and every batch it sent (with the offsets).
interface Sent {
  batch: BatchIdentity
  base: number
  last: number
}

function runOps(ops: Op[], cut: number, startSeq: number) {
  const log = new Log()
  const producers = new Map<number, { epoch: number; seq: number; sent: Sent[] }>()
  let snapshot: ProducerSnapshot | undefined
  let ts = 0
  ops.forEach((op, i) => {
    if (i === cut) snapshot = JSON.parse(JSON.stringify(log.state.snapshot())) as ProducerSnapshot
    ts += 7
    if (op.t === 'plain') {
      assert.equal(log.produce(b(-1, 0, 0, op.count), ts).kind, 'append')
      return
    }
    const pid = 100 + op.p
    let model = producers.get(pid)
    if (model === undefined) {
      model = { epoch: 0, seq: startSeq, sent: [] }
      producers.set(pid, model)
    }
    if (op.t === 'next' || op.t === 'bump') {
      if (op.t === 'bump' && model.sent.length > 0) {
        model.epoch++
        model.seq = 0
        model.sent = []
      }
      const batch = b(pid, model.epoch, model.seq, op.count)
      const base = log.next
      assert.deepEqual(log.produce(batch, ts), { kind: 'append' })
      model.sent.push({ batch, base, last: log.next - 1 })
      model.seq = incrementSequence(model.seq, op.count)
    } else if (op.t === 'retry') {
      const index = model.sent.length - 1 - op.back
      const original = model.sent[index]
      if (original === undefined) return
      const result = log.produce(original.batch, ts)
      if (op.back < 5)
        assert.deepEqual(result, { kind: 'duplicate', baseOffset: original.base, lastOffset: original.last })
      else assert.equal(errorCode(result), 'OUT_OF_ORDER_SEQUENCE')
    } else if (op.t === 'gap') {
      if (model.sent.length === 0) return
      assert.equal(
        errorCode(log.produce(b(pid, model.epoch, incrementSequence(model.seq, op.skip)), ts)),
        'OUT_OF_ORDER_SEQUENCE',
      )
    } else if (model.epoch > 0) {
      assert.equal(errorCode(log.produce(b(pid, model.epoch - 1, model.seq), ts)), 'INVALID_PRODUCER_EPOCH')
    }
  })
  snapshot ??= JSON.parse(JSON.stringify(log.state.snapshot())) as ProducerSnapshot
  return { log, snapshot }
}

test('property: snapshot + replay of the log tail, and replay of the whole log, equal the live state', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 60 }),
      fc.nat(60),
      fc.constantFrom(0, 17, INT32_MAX - 6),
      (ops, cutRaw, startSeq) => {
        const cut = Math.min(cutRaw, ops.length)
        const { log, snapshot } = runOps(ops, cut, startSeq)
        const live = log.state.snapshot()

        const restored = PartitionProducerState.restore(snapshot)
        for (const a of log.appended) restored.replay(a.batch, a.base, a.last, a.ts) // from 0: covered ones skipped
        assert.deepEqual(restored.snapshot(), live)

        const rebuilt = new PartitionProducerState()
        for (const a of log.appended) rebuilt.replay(a.batch, a.base, a.last, a.ts)
        assert.deepEqual(rebuilt.snapshot(), live)
      },
    ),
    { numRuns: runs },
  )
})

// --- producer id allocation -----------------------------------------------------------------------------------

/** Reserves blocks from one counter shared by every allocator over it (a store several brokers share). */
class MemoryIdStore {
  /** The first id no reservation has covered yet. */
  reservedEnd = 0
  reservations: number[] = []
  failNext = false
  async reserve(size: number): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve))
    if (this.failNext) {
      this.failNext = false
      throw new Error('disk full')
    }
    const start = this.reservedEnd
    this.reservedEnd += size
    this.reservations.push(start)
    return start
  }
}

test('allocator: ids are unique across restarts and never beyond the durable reservation', async () => {
  const store = new MemoryIdStore()
  const issued = new Set<number>()
  for (let restart = 0; restart < 4; restart++) {
    const allocator = new ProducerIdAllocator(store, 10)
    for (let i = 0; i < 7 + restart * 5; i++) {
      const { producerId, producerEpoch } = await allocator.next()
      assert.equal(producerEpoch, 0)
      assert.ok(!issued.has(producerId), `id ${producerId} reissued after restart ${restart}`)
      assert.ok(producerId < store.reservedEnd, 'an id was issued before its block was reserved')
      issued.add(producerId)
    }
  }
  assert.equal(issued.size, 7 + 12 + 17 + 22)
  // One reservation per block, not per id.
  assert.ok(store.reservations.length <= 4 + Math.ceil(issued.size / 10), `reservations: ${store.reservations.length}`)
})

test('allocator: concurrent callers share one reservation and get distinct ids', async () => {
  const store = new MemoryIdStore()
  const allocator = new ProducerIdAllocator(store, 4)
  const results = await Promise.all(Array.from({ length: 25 }, () => allocator.next()))
  const ids = results.map((r) => r.producerId).sort((x, y) => x - y)
  assert.deepEqual(
    ids,
    Array.from({ length: 25 }, (_, i) => i),
  )
  assert.deepEqual(store.reservations, [0, 4, 8, 12, 16, 20, 24])
})

test('allocator: two allocators over one store (two brokers) never issue the same id', async () => {
  const store = new MemoryIdStore()
  const [one, two] = [new ProducerIdAllocator(store, 3), new ProducerIdAllocator(store, 3)]
  const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one : two).next()))
  assert.equal(new Set(ids.map((r) => r.producerId)).size, 20)
})

test('allocator: a failed reservation issues nothing; the next call retries', async () => {
  const store = new MemoryIdStore()
  store.reservedEnd = 50
  const allocator = new ProducerIdAllocator(store, 5)
  store.failNext = true
  await assert.rejects(allocator.next(), /disk full/)
  assert.equal(store.reservedEnd, 50)
  assert.deepEqual(await allocator.next(), { producerId: 50, producerEpoch: 0 })
  assert.equal(store.reservedEnd, 55)
})

test('allocator: invalid reserved blocks and block sizes are rejected', async () => {
  const store = (start: number) => ({ reserve: async () => start })
  await assert.rejects(new ProducerIdAllocator(store(-1)).next(), (e) => isWharfError(e, 'STORE_CORRUPT'))
  await assert.rejects(new ProducerIdAllocator(store(1.5)).next(), (e) => isWharfError(e, 'STORE_CORRUPT'))
  assert.throws(
    () => new ProducerIdAllocator(store(0), 0),
    (e) => isWharfError(e, 'INVALID_CONFIG'),
  )
})
