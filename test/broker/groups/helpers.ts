// Shared fixtures: a coordinator on a fake clock (no internal timer; advance() runs the deadlines), an
// in-memory offset store, and request builders with Kafka-client-like defaults.
import type { TestContext } from 'node:test'
import {
  GroupCoordinator,
  type GroupCoordinatorOptions,
  type JoinRequest,
  type JoinResponse,
  MemoryOffsetStore,
  type SyncRequest,
} from '../../../src/broker/groups/index.ts'

export const PENDING = Symbol('pending')

/** Resolves to the promise's value if it has settled by now, else PENDING (all coordinator work is synchronous). */
export async function peek<T>(promise: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([promise, new Promise<typeof PENDING>((resolve) => setImmediate(() => resolve(PENDING)))])
}

export function setup(t: TestContext, options: Partial<GroupCoordinatorOptions> = {}) {
  let clock = 1_000_000
  const store = new MemoryOffsetStore((topic) => topic !== 'missing')
  const coordinator = new GroupCoordinator({
    offsets: store,
    now: () => clock,
    initialRebalanceDelayMs: 0,
    tickIntervalMs: 0,
    ...options,
  })
  t.after(() => coordinator.close())
  return {
    coordinator,
    store,
    /** Moves the fake clock and runs every deadline that passed. */
    advance(ms: number) {
      clock += ms
      coordinator.tick()
    },
  }
}

export function joinRequest(overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('sub') }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
    ...overrides,
  }
}

export function syncRequest(join: JoinResponse, overrides: Partial<SyncRequest> = {}): SyncRequest {
  return {
    groupId: 'g',
    generationId: join.generationId,
    memberId: join.memberId,
    groupInstanceId: null,
    assignments: [],
    ...overrides,
  }
}

/** Joins one member into a fresh group and syncs it: returns its (Stable, generation 1) join response. */
export async function stableSingle(coordinator: GroupCoordinator, overrides: Partial<JoinRequest> = {}) {
  const joined = await coordinator.join(joinRequest(overrides))
  await coordinator.sync(
    syncRequest(joined, {
      groupId: overrides.groupId ?? 'g',
      groupInstanceId: overrides.groupInstanceId ?? null,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from(`a:${joined.memberId}`) }],
    }),
  )
  return joined
}
