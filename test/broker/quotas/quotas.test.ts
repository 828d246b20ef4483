// Client quotas in the broker: Kafka's precedence order between user / client-id entities and their defaults,
// the rate and throttle-time arithmetic over a sampled window, per-entry validation, and durability.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RateMeter, throttleMs } from '../../../src/broker/quotas/meter.ts'
import { Quotas } from '../../../src/broker/quotas/quotas.ts'
import { entityKey } from '../../../src/broker/quotas/store.ts'
import { createBroker } from '../../../src/index.ts'
import type { MetadataStore } from '../../../src/storage/api.ts'
import { openBroker, tempDir } from '../helpers.ts'

const client = (user: string, clientId: string) => ({ user, clientId })

test("quota precedence is Kafka's: user+client, user+default client, user, default user…, client, default client", async (t) => {
  const { quotas } = await openBroker(t)
  const kind = 'produceBytesPerSecond'
  const levels = [
    { clientId: null },
    { clientId: 'app' },
    { user: null },
    { user: null, clientId: null },
    { user: null, clientId: 'app' },
    { user: 'alice' },
    { user: 'alice', clientId: null },
    { user: 'alice', clientId: 'app' },
  ]
  // Adding ever more specific entities: each one takes over for (alice, app).
  for (const [i, entity] of levels.entries()) {
    const [error] = await quotas.alter([{ entity, changes: [{ kind, value: 1000 + i }] }], false)
    assert.equal(error, null)
    assert.equal(quotas.limitFor(client('alice', 'app'), kind), 1000 + i, JSON.stringify(entity))
  }
  // Other pairs fall to the level that covers them.
  assert.equal(quotas.limitFor(client('alice', 'other'), kind), 1006, 'alice with the default client')
  assert.equal(quotas.limitFor(client('bob', 'app'), kind), 1004, 'default user with client app')
  assert.equal(quotas.limitFor(client('bob', 'other'), kind), 1003, 'default user and default client')
  // Kinds resolve on their own.
  assert.equal(quotas.limitFor(client('alice', 'app'), 'fetchBytesPerSecond'), undefined)
})

test('without a default, an unlisted client has no quota and is never throttled', async (t) => {
  const { quotas } = await openBroker(t)
  await quotas.alter(
    [{ entity: { clientId: 'slow' }, changes: [{ kind: 'produceBytesPerSecond', value: 100 }] }],
    false,
  )
  assert.equal(quotas.record('produceBytesPerSecond', client('u', 'fast'), 10_000_000, 0), 0)
  assert.ok(quotas.record('produceBytesPerSecond', client('u', 'slow'), 10_000, 0) > 0)
})

test('the rate is measured over at least samples-1 whole samples, and the throttle restores the limit', () => {
  const window = { samples: 3, sampleMs: 1000 }
  const meter = new RateMeter(window)
  // A first burst is measured over the 2 s floor, not the instant it took.
  const first = meter.record(1000, 10_000)
  assert.equal(first.windowMs, 2000)
  assert.equal(first.rate, 500)
  assert.equal(throttleMs(first.rate, 1000, first.windowMs, window), 0)
  const second = meter.record(3000, 10_500)
  // Half a second into the window: 500 ms plus the two-sample floor.
  assert.equal(second.windowMs, 2500)
  assert.equal(second.rate, 1600)
  // Silent for the throttle time, the same bytes are spread over a window that long: exactly the limit.
  const wait = throttleMs(second.rate, 1000, second.windowMs, window)
  assert.equal(wait, 1500)
  assert.equal((4000 * 1000) / (second.windowMs + wait), 1000)
  // Samples older than the window stop counting.
  assert.equal(meter.record(0, 14_000).rate, 0)
  // The throttle time never exceeds the window.
  assert.equal(throttleMs(1e9, 1, 2000, window), 3000)
})

test('shared meters: a user-level quota is shared by all of the user’s client ids', async (t) => {
  const { quotas } = await openBroker(t)
  await quotas.alter([{ entity: { user: 'alice' }, changes: [{ kind: 'produceBytesPerSecond', value: 2000 }] }], false)
  await quotas.alter([{ entity: { clientId: null }, changes: [{ kind: 'produceBytesPerSecond', value: 2000 }] }], false)
  const now = 50_000
  // 1500 B/s over the 10 s floor from each of two client ids: alice's shared rate (3000 B/s) is over, two
  // separate default-client rates are not.
  assert.equal(quotas.record('produceBytesPerSecond', client('alice', 'a'), 15_000, now), 0)
  assert.ok(quotas.record('produceBytesPerSecond', client('alice', 'b'), 15_000, now) > 0)
  assert.equal(quotas.record('produceBytesPerSecond', client('bob', 'a'), 15_000, now), 0)
  assert.equal(quotas.record('produceBytesPerSecond', client('bob', 'b'), 15_000, now), 0)
})

test('request time counts as a percentage of one thread: 10% is 100 ms per second', async (t) => {
  const { quotas } = await openBroker(t)
  await quotas.alter([{ entity: { user: null }, changes: [{ kind: 'requestPercentage', value: 10 }] }], false)
  const c = client('anyone', 'x')
  // Over an 11 s floor window, 1000 ms is under 100 ms/s; 1200 ms more is over.
  assert.equal(quotas.record('requestPercentage', c, 1000, 0), 0)
  assert.ok(quotas.record('requestPercentage', c, 1200, 0) > 0)
})

test('alter validates each entry on its own; quotas survive a restart', async (t) => {
  const dir = tempDir(t)
  const broker = await createBroker({ dataDir: dir })
  const results = await broker.quotas.alter(
    [
      { entity: { user: 'alice' }, changes: [{ kind: 'produceBytesPerSecond', value: 2048 }] },
      { entity: {}, changes: [{ kind: 'produceBytesPerSecond', value: 1 }] },
      { entity: { clientId: '' }, changes: [{ kind: 'produceBytesPerSecond', value: 1 }] },
      { entity: { clientId: 'a' }, changes: [{ kind: 'fetchBytesPerSecond', value: 1.5 }] },
      { entity: { clientId: 'a' }, changes: [{ kind: 'requestPercentage', value: 0 }] },
      { entity: { clientId: null }, changes: [{ kind: 'requestPercentage', value: 12.5 }] },
    ],
    false,
  )
  assert.deepEqual(
    results.map((e) => e?.code ?? null),
    [null, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', null],
  )
  const [validated] = await broker.quotas.alter(
    [{ entity: { user: 'bob' }, changes: [{ kind: 'produceBytesPerSecond', value: 1 }] }],
    true,
  )
  assert.equal(validated, null)
  await broker.close()
  const reopened = await createBroker({ dataDir: dir })
  t.after(() => reopened.close())
  assert.deepEqual(
    reopened.quotas.describe([], false).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    [
      { entity: { clientId: null }, values: { requestPercentage: 12.5 } },
      { entity: { user: 'alice' }, values: { produceBytesPerSecond: 2048 } },
    ],
  )
})

test('meters are bounded: clients churning ids evict the least recently used rate; idle ones are swept', () => {
  // A metadata store holding one default client-id quota of 1000 B/s.
  const stored = { entity: { clientId: null }, values: { produceBytesPerSecond: 1000 } }
  const metadata: MetadataStore = {
    get: () => undefined,
    list: <T>() => [[entityKey(stored.entity), stored as T]] as Array<[string, T]>,
    put: async () => {},
    delete: async () => {},
    nextId: async () => 1,
    flush: async () => {},
    close: async () => {},
  }
  const quotas = new Quotas(metadata, { samples: 2, sampleMs: 1000 }, 3)
  for (let i = 0; i < 10; i++) quotas.record('produceBytesPerSecond', client('u', `id-${i}`), 10, 1000)
  assert.equal(quotas.meterCount, 3)
  // The hot client keeps its rate while others churn past it.
  assert.ok(quotas.record('produceBytesPerSecond', client('u', 'hot'), 5000, 1000) > 0)
  for (let i = 0; i < 2; i++) {
    quotas.record('produceBytesPerSecond', client('u', `churn-${i}`), 10, 1000)
    assert.ok(quotas.record('produceBytesPerSecond', client('u', 'hot'), 1, 1000) > 0, 'hot keeps its rate')
  }
  // Idle for two windows: everything but the one recording now is swept.
  quotas.record('produceBytesPerSecond', client('u', 'late'), 1, 10_000)
  assert.equal(quotas.meterCount, 1)
})
