// OffsetCommit/OffsetFetch validation and persistence, Describe/List/DeleteGroups, request validation,
// and the coordinator's one timer (the process must be able to exit after close()).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  type CommitRequest,
  GroupCoordinator,
  type JoinResponse,
  MemoryOffsetStore,
} from '../../../src/broker/groups/index.ts'
import { joinRequest, PENDING, peek, setup, stableSingle, syncRequest } from './helpers.ts'

function commit(overrides: Partial<CommitRequest> = {}): CommitRequest {
  return {
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets: [{ topic: 't', partition: 0, offset: 42, metadata: 'meta' }],
    ...overrides,
  }
}

test('simple commits (generation -1) work without members; fetch answers -1 for nothing committed', async (t) => {
  const { coordinator: c } = setup(t)
  assert.deepEqual(await c.commitOffsets(commit()), {
    error: 'NONE',
    partitions: [{ topic: 't', partition: 0, error: 'NONE' }],
  })
  await c.commitOffsets(commit({ offsets: [{ topic: 't', partition: 1, offset: 7, metadata: null }] }))
  assert.deepEqual(
    c.fetchOffsets('g', [
      { topic: 't', partition: 0 },
      { topic: 't', partition: 5 },
      { topic: 'u', partition: 0 },
    ]),
    {
      error: 'NONE',
      partitions: [
        { topic: 't', partition: 0, offset: 42, metadata: 'meta', error: 'NONE' },
        { topic: 't', partition: 5, offset: -1, metadata: '', error: 'NONE' },
        { topic: 'u', partition: 0, offset: -1, metadata: '', error: 'NONE' },
      ],
    },
  )
  const all = c.fetchOffsets('g', null).partitions.map((p) => [p.partition, p.offset, p.metadata])
  assert.deepEqual(all, [
    [0, 42, 'meta'],
    [1, 7, ''],
  ])
  assert.deepEqual(c.fetchOffsets('nobody', null).partitions, [])
  assert.equal(c.fetchOffsets('', null).error, 'INVALID_GROUP_ID')
})

test('commit validation follows Kafka: member, generation, rebalance phase', async (t) => {
  const { coordinator: c, advance } = setup(t)
  assert.equal(
    (await c.commitOffsets(commit({ groupId: 'ghost', generationId: 3, memberId: 'm' }))).error,
    'ILLEGAL_GENERATION',
  )
  const joined = await c.join(joinRequest())
  const member = { generationId: joined.generationId, memberId: joined.memberId }
  // CompletingRebalance: the member does not know its partitions yet.
  const early = await c.commitOffsets(commit(member))
  assert.equal(early.error, 'REBALANCE_IN_PROGRESS')
  assert.deepEqual(early.partitions, [{ topic: 't', partition: 0, error: 'REBALANCE_IN_PROGRESS' }])
  await c.sync(syncRequest(joined, { assignments: [] }))
  assert.equal((await c.commitOffsets(commit(member))).error, 'NONE')
  assert.equal((await c.commitOffsets(commit())).error, 'UNKNOWN_MEMBER_ID', 'no simple commits while members exist')
  assert.equal((await c.commitOffsets(commit({ ...member, memberId: 'x' }))).error, 'UNKNOWN_MEMBER_ID')
  assert.equal((await c.commitOffsets(commit({ ...member, generationId: 9 }))).error, 'ILLEGAL_GENERATION')
  assert.equal((await c.commitOffsets(commit({ ...member, groupId: '' }))).error, 'INVALID_GROUP_ID')
  // A commit keeps the member alive like a heartbeat does.
  advance(9000)
  await c.commitOffsets(commit(member))
  advance(9000)
  assert.equal(c.heartbeat({ groupId: 'g', ...member, groupInstanceId: null }), 'NONE')
  // PreparingRebalance still accepts commits: the heartbeat is what tells the member to rejoin.
  c.join(joinRequest({ clientId: 'other' }))
  assert.equal(c.describe('g').state, 'PreparingRebalance')
  assert.equal((await c.commitOffsets(commit(member))).error, 'NONE')
})

test('per-partition errors: metadata too large, unknown topic, store failure', async (t) => {
  let fail = false
  const store = new MemoryOffsetStore((topic) => topic !== 'missing')
  const commitToStore = store.commit.bind(store)
  store.commit = (...args) => (fail ? Promise.reject(new Error('disk on fire')) : commitToStore(...args))
  const c = new GroupCoordinator({ offsets: store, tickIntervalMs: 0, maxMetadataBytes: 4 })
  t.after(() => c.close())
  const result = await c.commitOffsets(
    commit({
      offsets: [
        { topic: 't', partition: 0, offset: 1, metadata: 'four' },
        { topic: 't', partition: 1, offset: 1, metadata: 'fives' },
        { topic: 'missing', partition: 0, offset: 1, metadata: null },
        { topic: 't', partition: 2, offset: 2 ** 60, metadata: null },
      ],
    }),
  )
  assert.deepEqual(
    result.partitions.map((p) => p.error),
    ['NONE', 'OFFSET_METADATA_TOO_LARGE', 'UNKNOWN_TOPIC_OR_PARTITION', 'INVALID_COMMIT_OFFSET_SIZE'],
  )
  assert.equal(store.fetch('g', 't', 1), undefined)
  fail = true
  const failed = await c.commitOffsets(commit())
  assert.equal(failed.partitions[0]?.error, 'COORDINATOR_NOT_AVAILABLE')
})

test('a commit is answered only after the store made it durable', async (t) => {
  const store = new MemoryOffsetStore()
  let release: () => void = () => {}
  const commitToStore = store.commit.bind(store)
  store.commit = (...args) =>
    new Promise<void>((resolve) => {
      release = () => commitToStore(...args).then(resolve)
    })
  const c = new GroupCoordinator({ offsets: store, tickIntervalMs: 0 })
  t.after(() => c.close())
  const pending = c.commitOffsets(commit())
  assert.equal(await peek(pending), PENDING)
  release()
  assert.equal((await pending).error, 'NONE')
  assert.equal(c.fetchOffsets('g', [{ topic: 't', partition: 0 }]).partitions[0]?.offset, 42)
})

test('describe shows members, protocol and assignments once Stable', async (t) => {
  const { coordinator: c } = setup(t)
  const joined = await c.join(joinRequest({ clientId: 'desc', groupInstanceId: 'inst' }))
  const mid = c.describe('g')
  assert.equal(mid.state, 'CompletingRebalance')
  assert.equal(mid.protocol, '', 'Kafka hides the protocol until the group is Stable')
  assert.deepEqual(mid.members[0]?.assignment, Buffer.alloc(0))
  await c.sync(
    syncRequest(joined, {
      groupInstanceId: 'inst',
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from('x') }],
    }),
  )
  assert.deepEqual(c.describe('g'), {
    error: 'NONE',
    groupId: 'g',
    state: 'Stable',
    protocolType: 'consumer',
    protocol: 'range',
    members: [
      {
        memberId: joined.memberId,
        groupInstanceId: 'inst',
        clientId: 'desc',
        clientHost: '/127.0.0.1',
        metadata: Buffer.from('sub'),
        assignment: Buffer.from('x'),
      },
    ],
  })
  assert.equal(c.describe('unknown').state, 'Dead')
  assert.equal(c.describe('').error, 'INVALID_GROUP_ID')
})

test('list and describe include offsets-only groups as Empty; states filter', async (t) => {
  const { coordinator: c } = setup(t)
  await stableSingle(c, { groupId: 'live' })
  await c.commitOffsets(commit({ groupId: 'simple' }))
  const left = await c.join(joinRequest({ groupId: 'gone' }))
  c.leave({ groupId: 'gone', members: [{ memberId: left.memberId, groupInstanceId: null }] })
  assert.deepEqual(
    c.list().sort((x, y) => x.groupId.localeCompare(y.groupId)),
    [
      { groupId: 'gone', protocolType: 'consumer', state: 'Empty' },
      { groupId: 'live', protocolType: 'consumer', state: 'Stable' },
      { groupId: 'simple', protocolType: '', state: 'Empty' },
    ],
  )
  assert.deepEqual(
    c.list(['stable']).map((g) => g.groupId),
    ['live'],
  )
  assert.deepEqual(
    c
      .list(['Empty'])
      .map((g) => g.groupId)
      .sort(),
    ['gone', 'simple'],
  )
  assert.equal(c.describe('simple').state, 'Empty')
})

test('deleteGroups: only empty groups, and their offsets go with them', async (t) => {
  const { coordinator: c } = setup(t)
  const member = await stableSingle(c, { groupId: 'busy' })
  await c.commitOffsets(commit({ groupId: 'busy', generationId: member.generationId, memberId: member.memberId }))
  await c.commitOffsets(commit({ groupId: 'simple' }))
  assert.deepEqual(await c.deleteGroups(['busy', 'simple', 'never', '']), [
    { groupId: 'busy', error: 'NON_EMPTY_GROUP' },
    { groupId: 'simple', error: 'NONE' },
    { groupId: 'never', error: 'GROUP_ID_NOT_FOUND' },
    { groupId: '', error: 'INVALID_GROUP_ID' },
  ])
  assert.equal(c.fetchOffsets('simple', [{ topic: 't', partition: 0 }]).partitions[0]?.offset, -1)
  assert.equal(c.describe('simple').state, 'Dead')
  c.leave({ groupId: 'busy', members: [{ memberId: member.memberId, groupInstanceId: null }] })
  assert.deepEqual(await c.deleteGroups(['busy']), [{ groupId: 'busy', error: 'NONE' }])
  assert.deepEqual(c.fetchOffsets('busy', null).partitions, [])
  assert.deepEqual(c.list(), [])
  // A member id of the deleted group is no longer valid.
  assert.equal((await c.join(joinRequest({ groupId: 'busy', memberId: member.memberId }))).error, 'UNKNOWN_MEMBER_ID')
})

test('request validation: session bounds, group ids, group size, sync protocol checks', async (t) => {
  const { coordinator: c } = setup(t, { maxGroupSize: 2 })
  assert.equal((await c.join(joinRequest({ sessionTimeoutMs: 5999 }))).error, 'INVALID_SESSION_TIMEOUT')
  assert.equal((await c.join(joinRequest({ sessionTimeoutMs: 1_800_001 }))).error, 'INVALID_SESSION_TIMEOUT')
  assert.equal((await c.join(joinRequest({ groupId: '' }))).error, 'INVALID_GROUP_ID')
  const a = await c.join(joinRequest())
  const pending = await c.join(joinRequest({ requireKnownMemberId: true }))
  assert.equal(pending.error, 'MEMBER_ID_REQUIRED')
  assert.equal((await c.join(joinRequest())).error, 'GROUP_MAX_SIZE_REACHED', 'handed-out ids count')
  assert.equal((await c.sync(syncRequest(a, { protocolName: 'roundrobin' }))).error, 'INCONSISTENT_GROUP_PROTOCOL')
  assert.equal((await c.sync(syncRequest(a, { protocolType: 'connect' }))).error, 'INCONSISTENT_GROUP_PROTOCOL')
  assert.equal((await c.sync(syncRequest(a, { protocolType: 'consumer', protocolName: 'range' }))).error, 'NONE')
  assert.equal((await c.sync(syncRequest(a, { groupId: 'nope' }))).error, 'UNKNOWN_MEMBER_ID')
})

test('a Stable follower rejoining with the same metadata gets the current generation; the leader forces a rebalance', async (t) => {
  const { coordinator: c, advance } = setup(t, { initialRebalanceDelayMs: 10 })
  const joins = [c.join(joinRequest({ clientId: 'a' })), c.join(joinRequest({ clientId: 'b' }))]
  advance(10)
  advance(10)
  const [x, y] = (await Promise.all(joins)) as [JoinResponse, JoinResponse]
  const [leader, follower] = x.leader === x.memberId ? [x, y] : [y, x]
  const followerSync = c.sync(syncRequest(follower))
  await c.sync(syncRequest(leader, { assignments: [{ memberId: follower.memberId, assignment: Buffer.from('F') }] }))
  assert.equal((await followerSync).assignment.toString(), 'F')
  // CompletingRebalance/Stable with unchanged metadata: answered at once, same generation.
  const again = await c.join(joinRequest({ clientId: 'b', memberId: follower.memberId }))
  assert.equal(again.generationId, 1)
  assert.equal(again.leader, leader.memberId)
  assert.equal(c.describe('g').state, 'Stable')
  assert.equal((await c.sync(syncRequest(again))).assignment.toString(), 'F')
  const leaderJoin = c.join(joinRequest({ clientId: 'a', memberId: leader.memberId }))
  assert.equal(c.describe('g').state, 'PreparingRebalance')
  assert.equal(await peek(leaderJoin), PENDING)
})

test('close answers parked requests and leaves no timer behind', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const before = timers()
  const c = new GroupCoordinator({ offsets: new MemoryOffsetStore(), initialRebalanceDelayMs: 20, tickIntervalMs: 5 })
  assert.equal(timers(), before + 1, 'one shared tick timer')
  // The real timer drives the initial delay: two concurrent joiners end up in one generation.
  const [a, b] = await Promise.all([c.join(joinRequest()), c.join(joinRequest())])
  assert.equal(a.generationId, 1)
  assert.equal(b.generationId, 1)
  const follower = a.leader === a.memberId ? b : a
  const parked = c.sync(syncRequest(follower))
  c.close()
  assert.equal((await parked).error, 'COORDINATOR_NOT_AVAILABLE')
  assert.equal(
    c.heartbeat({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null }),
    'COORDINATOR_NOT_AVAILABLE',
  )
  assert.equal((await c.join(joinRequest())).error, 'COORDINATOR_NOT_AVAILABLE')
  assert.equal(timers(), before)
})

test('idle Empty groups leave memory after the retention; offsets keep them listed', async (t) => {
  const { coordinator: c, advance } = setup(t, { emptyGroupRetentionMs: 60_000 })
  const m = await stableSingle(c)
  await c.commitOffsets(commit({ generationId: m.generationId, memberId: m.memberId }))
  c.leave({ groupId: 'g', members: [{ memberId: m.memberId, groupInstanceId: null }] })
  advance(60_000)
  assert.equal(c.groups.size, 0)
  assert.deepEqual(c.list(), [{ groupId: 'g', protocolType: '', state: 'Empty' }])
  // A new generation starts cleanly from the offsets-only group.
  const again = await c.join(joinRequest())
  assert.equal(again.error, 'NONE')
})
