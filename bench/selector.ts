// Selector benchmark (not a test): N 1 KiB messages with an int property `half` (0/1) are queued first, then
// drained (a) by one consumer without a selector, (b) by a consumer with the selector `half = 1` plus an
// unfiltered consumer taking the rest, and (c) by two consumers without selectors (the same sharing as (b),
// without the selector). Reports delivered/s per consumer and the selective consumer's rate against (a) and
// against one consumer of (c) (the goal is >= 0.8). Consumers ack every delivery, prefetch 500. Run: node --import tsx bench/selector.ts [--quick] [--durability always|interval|never]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { property, propertyHeaders } from '../src/broker/properties/properties.ts'
import type { Delivery } from '../src/broker/queue/types.ts'
import { type Broker, createBroker } from '../src/index.ts'
import { durability, quick } from './args.ts'

const N = quick ? 20_000 : 100_000
const BATCH = 1000
const payload = Buffer.alloc(1024, 'x')

async function withBroker<T>(run: (broker: Broker) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-selbench-'))
  const broker = await createBroker({ dataDir: dir, durability })
  try {
    return await run(broker)
  } finally {
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function fill(broker: Broker): Promise<void> {
  await broker.createQueue('bench')
  const halves = [0, 1].map((half) => propertyHeaders([['half', property('int', half)]]))
  for (let i = 0; i < N; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, N - i) }, (_, k) => ({
      value: payload,
      headers: halves[(i + k) % 2]!,
    }))
    await broker.sendToQueue('bench', batch)
  }
}

interface Drained {
  count: number
  /** ms from the start until this consumer had all it was going to get. */
  ms: number
}

/** Starts consumers (selector or none each) and resolves once `expected[i]` messages reached consumer i. */
function drain(broker: Broker, selectors: Array<string | undefined>, expected: number[]): Promise<Drained[]> {
  const queue = broker.queue('bench')
  const start = performance.now()
  return Promise.all(
    selectors.map(
      (selector, i) =>
        new Promise<Drained>((resolve) => {
          let count = 0
          broker.consume('bench', {
            owner: `c${i}`,
            prefetch: 500,
            ...(selector === undefined ? {} : { selector }),
            onDeliver: (ds: Delivery[]) => {
              for (const d of ds) void queue.ack(d.partition, d.offset, d.leaseId)
              count += ds.length
              if (count >= expected[i]!) resolve({ count, ms: performance.now() - start })
            },
          })
        }),
    ),
  )
}

const rate = (d: Drained) => Math.round(d.count / (d.ms / 1000))

const unfiltered = await withBroker(async (broker) => {
  await fill(broker)
  return (await drain(broker, [undefined], [N]))[0]!
})
console.log(`(a) no selector:            ${unfiltered.count} delivered, ${rate(unfiltered)} delivered/s`)

const pair = await withBroker(async (broker) => {
  await fill(broker)
  return drain(broker, [undefined, undefined], [N / 2, N / 2])
})
const pairRate = Math.round(N / (Math.max(pair[0]!.ms, pair[1]!.ms) / 1000))
console.log(
  `(c) two without a selector: ${pair.map((d) => `${d.count} at ${rate(d)}/s`).join(', ')}, ${pairRate}/s total`,
)

const [selective, other] = await withBroker(async (broker) => {
  await fill(broker)
  return drain(broker, ['half = 1', undefined], [N / 2, N / 2])
})
console.log(`(b) selector 'half = 1':     ${selective!.count} delivered, ${rate(selective!)} delivered/s`)
console.log(`    unfiltered beside it:    ${other!.count} delivered, ${rate(other!)} delivered/s`)
console.log(`    both together:           ${Math.round(N / (Math.max(selective!.ms, other!.ms) / 1000))} delivered/s`)

console.log(`selective (b) / unfiltered (a):        ${(rate(selective!) / rate(unfiltered)).toFixed(2)}`)
console.log(`selective (b) / one consumer of (c):   ${(rate(selective!) / Math.min(...pair.map(rate))).toFixed(2)}`)
console.log(
  `total (b) / total (c):                 ${(N / Math.max(selective!.ms, other!.ms) / (pairRate / 1000)).toFixed(2)}`,
)
