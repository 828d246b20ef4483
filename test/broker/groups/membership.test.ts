// JoinGroup / SyncGroup / Heartbeat / LeaveGroup semantics of the classic group protocol, on a fake clock.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { GroupCoordinator, JoinResponse } from '../../../src/broker/groups/index.ts'
import { joinRequest, PENDING, peek, setup, stableSingle, syncRequest } from './helpers.ts'

function heartbeat(c: GroupCoordinator, j: { memberId: string; generationId: number }, instance: string | null = null) {
  return c.heartbeat({ groupId: 'g', generationId: j.generationId, memberId: j.memberId, groupInstanceId: instance })
}

/** Two dynamic members, Stable at generation 2 (the second joiner forces a rebalance on the first). */
async function stablePair(c: GroupCoordinator) {
  const first = await c.join(joinRequest({ clientId: 'a' }))
  assert.equal(first.generationId, 1)
  const secondJoin = c.join(joinRequest({ clientId: 'b' }))
  assert.equal(await peek(secondJoin), PENDING)
  assert.equal(heartbeat(c, first), 'REBALANCE_IN_PROGRESS')
  const a = await c.join(joinRequest({ clientId: 'a', memberId: first.memberId }))
  const b = await secondJoin
  assert.equal(a.generationId, 2)
  assert.equal(b.generationId, 2)
  const followerSync = c.sync(syncRequest(b))
  await c.sync(
    syncRequest(a, {
      assignments: [
        { memberId: a.memberId, assignment: Buffer.from('A') },
        { memberId: b.memberId, assignment: Buffer.from('B') },
      ],
    }),
  )
  assert.equal((await followerSync).assignment.toString(), 'B')
  assert.equal(c.describe('g').state, 'Stable')
  return { a, b }
}

test('single member: join, sync, heartbeat', async (t) => {
  const { coordinator: c } = setup(t)
  const joined = await c.join(joinRequest())
  assert.equal(joined.error, 'NONE')
  assert.equal(joined.generationId, 1)
  assert.equal(joined.leader, joined.memberId)
  assert.match(joined.memberId, /^client-[0-9a-f-]{36}$/)
  assert.equal(joined.protocolType, 'consumer')
  assert.equal(joined.protocolName, 'range')
  assert.deepEqual(joined.members, [{ memberId: joined.memberId, groupInstanceId: null, metadata: Buffer.from('sub') }])
  assert.equal(c.describe('g').state, 'CompletingRebalance')
  assert.equal(heartbeat(c, joined), 'NONE', 'heartbeats between join and sync are fine')

  const synced = await c.sync(
    syncRequest(joined, { assignments: [{ memberId: joined.memberId, assignment: Buffer.from('p0') }] }),
  )
  assert.deepEqual(synced, {
    error: 'NONE',
    protocolType: 'consumer',
    protocolName: 'range',
    assignment: Buffer.from('p0'),
  })
  assert.equal(c.describe('g').state, 'Stable')
  assert.equal(heartbeat(c, joined), 'NONE')
  assert.equal(heartbeat(c, { ...joined, generationId: 0 }), 'ILLEGAL_GENERATION')
  assert.equal(heartbeat(c, { ...joined, memberId: 'nobody' }), 'UNKNOWN_MEMBER_ID')
  assert.equal(
    c.heartbeat({ groupId: 'other', generationId: 1, memberId: 'x', groupInstanceId: null }),
    'UNKNOWN_MEMBER_ID',
  )
  // A Stable member syncing again gets its assignment back.
  assert.equal((await c.sync(syncRequest(joined))).assignment.toString(), 'p0')
})

test('two members joining concurrently share a generation, one leader, and sync distributes assignments', async (t) => {
  const { coordinator: c, advance } = setup(t, { initialRebalanceDelayMs: 3000 })
  const aJoin = c.join(joinRequest({ clientId: 'a' }))
  const bJoin = c.join(joinRequest({ clientId: 'b' }))
  advance(2999)
  assert.equal(await peek(aJoin), PENDING, 'the initial delay holds the first generation back')
  // B arrived during the delay, so the delay extends once more (Kafka's InitialDelayedJoin).
  advance(1)
  assert.equal(await peek(aJoin), PENDING)
  advance(3000)
  const a = (await peek(aJoin)) as JoinResponse
  const b = (await peek(bJoin)) as JoinResponse
  assert.notEqual(a, PENDING)
  assert.equal(a.generationId, 1)
  assert.equal(b.generationId, 1)
  assert.equal(a.leader, b.leader)
  const [leader, follower] = a.leader === a.memberId ? [a, b] : [b, a]
  assert.equal(leader.members.length, 2)
  assert.deepEqual(follower.members, [])

  const followerSync = c.sync(syncRequest(follower))
  assert.equal(await peek(followerSync), PENDING, 'followers wait for the leader')
  const leaderSync = await c.sync(
    syncRequest(leader, {
      assignments: [
        { memberId: leader.memberId, assignment: Buffer.from('L') },
        { memberId: follower.memberId, assignment: Buffer.from('F') },
      ],
    }),
  )
  assert.equal(leaderSync.assignment.toString(), 'L')
  assert.equal((await followerSync).assignment.toString(), 'F')
})

test('the initial delay never runs past the rebalance timeout', async (t) => {
  const { coordinator: c, advance } = setup(t, { initialRebalanceDelayMs: 3000 })
  const first = c.join(joinRequest({ rebalanceTimeoutMs: 5000 }))
  const second = c.join(joinRequest({ rebalanceTimeoutMs: 5000 }))
  advance(3000) // extends by min(3000, 5000 - 3000)
  assert.equal(await peek(first), PENDING)
  c.join(joinRequest({ rebalanceTimeoutMs: 5000 })) // a newcomer cannot extend past the remaining 0
  advance(2000)
  assert.equal(((await peek(first)) as JoinResponse).generationId, 1)
  assert.equal(((await peek(second)) as JoinResponse).generationId, 1)
})

test('a third member triggers a rebalance; the others learn it by heartbeat and rejoin', async (t) => {
  const { coordinator: c } = setup(t)
  const { a, b } = await stablePair(c)
  const cJoin = c.join(joinRequest({ clientId: 'c' }))
  assert.equal(c.describe('g').state, 'PreparingRebalance')
  assert.equal(heartbeat(c, a), 'REBALANCE_IN_PROGRESS')
  assert.equal(heartbeat(c, b), 'REBALANCE_IN_PROGRESS')
  assert.equal((await c.sync(syncRequest(b))).error, 'REBALANCE_IN_PROGRESS')
  const aJoin = c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  assert.equal(await peek(aJoin), PENDING, 'b has not rejoined yet')
  const b3 = await c.join(joinRequest({ clientId: 'b', memberId: b.memberId }))
  const a3 = await aJoin
  const c3 = await cJoin
  for (const j of [a3, b3, c3]) assert.equal(j.generationId, 3)
  assert.equal(a3.leader, a.memberId, 'the leader stays leader when it rejoins')
  assert.equal(a3.members.length, 3)
  assert.deepEqual(a3.members.map((m) => m.memberId).sort(), [a.memberId, b.memberId, c3.memberId].sort())
  assert.equal(heartbeat(c, a), 'ILLEGAL_GENERATION', 'generation 2 is stale now')
  assert.equal((await c.sync(syncRequest(b))).error, 'ILLEGAL_GENERATION')
})

test('session timeout removes a silent member and rebalances the rest', async (t) => {
  const { coordinator: c, advance } = setup(t)
  const { a, b } = await stablePair(c)
  advance(5000)
  assert.equal(heartbeat(c, a), 'NONE')
  advance(5000) // b silent for its whole 10 s session
  assert.equal(c.describe('g').members.length, 1)
  assert.equal(heartbeat(c, a), 'REBALANCE_IN_PROGRESS')
  assert.equal(heartbeat(c, b), 'UNKNOWN_MEMBER_ID')
  const a3 = await c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  assert.equal(a3.generationId, 3)
  assert.deepEqual(
    a3.members.map((m) => m.memberId),
    [a.memberId],
  )
})

test('members that do not rejoin within the rebalance timeout are dropped', async (t) => {
  const { coordinator: c, advance } = setup(t)
  const { a, b } = await stablePair(c)
  const cJoin = c.join(joinRequest({ clientId: 'c' }))
  const aJoin = c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  for (let elapsed = 0; elapsed < 30_000; elapsed += 5000) {
    // b keeps its session alive but ignores the rebalance.
    assert.equal(heartbeat(c, b), 'REBALANCE_IN_PROGRESS')
    assert.equal(await peek(aJoin), PENDING)
    advance(5000)
  }
  const a3 = (await peek(aJoin)) as JoinResponse
  assert.equal(a3.generationId, 3)
  assert.equal(a3.members.length, 2)
  assert.equal((await cJoin).generationId, 3)
  assert.equal(heartbeat(c, b), 'UNKNOWN_MEMBER_ID')
})

test('a leader that never syncs is removed after the rebalance timeout; parked followers rejoin', async (t) => {
  const { coordinator: c, advance } = setup(t)
  const { a, b } = await stablePair(c)
  const changed = [{ name: 'range', metadata: Buffer.from('new topics') }]
  c.join(joinRequest({ clientId: 'b', memberId: b.memberId, protocols: changed }))
  const a3 = await c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  assert.equal(a3.leader, a.memberId)
  const followerSync = c.sync(syncRequest({ ...a3, memberId: b.memberId }))
  for (let elapsed = 0; elapsed < 30_000; elapsed += 5000) {
    // The leader heartbeats (so its session holds) but never sends its assignment.
    assert.equal(heartbeat(c, a3), 'NONE')
    assert.equal(await peek(followerSync), PENDING, 'a parked follower is not timed out by its session')
    advance(5000)
  }
  assert.equal((await followerSync).error, 'REBALANCE_IN_PROGRESS')
  assert.equal(heartbeat(c, a3), 'UNKNOWN_MEMBER_ID')
  const b4 = await c.join(joinRequest({ clientId: 'b', memberId: b.memberId, protocols: changed }))
  assert.equal(b4.generationId, 4)
  assert.equal(b4.leader, b.memberId)
})

test('leave removes a member at once and rebalances', async (t) => {
  const { coordinator: c } = setup(t)
  const { a, b } = await stablePair(c)
  const left = c.leave({
    groupId: 'g',
    members: [
      { memberId: b.memberId, groupInstanceId: null, reason: 'shutdown' },
      { memberId: 'ghost', groupInstanceId: null },
    ],
  })
  assert.deepEqual(left, {
    error: 'NONE',
    members: [
      { memberId: b.memberId, groupInstanceId: null, error: 'NONE' },
      { memberId: 'ghost', groupInstanceId: null, error: 'UNKNOWN_MEMBER_ID' },
    ],
  })
  assert.equal(heartbeat(c, a), 'REBALANCE_IN_PROGRESS')
  const a3 = await c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  assert.equal(a3.generationId, 3)
  assert.equal(a3.members.length, 1)
  c.leave({ groupId: 'g', members: [{ memberId: a.memberId, groupInstanceId: null }] })
  assert.equal(c.describe('g').state, 'Empty')
  assert.deepEqual(
    c.leave({ groupId: 'nope', members: [{ memberId: 'x', groupInstanceId: null }] }).members[0]?.error,
    'UNKNOWN_MEMBER_ID',
  )
})

test('a leaving member releases a parked join barrier', async (t) => {
  const { coordinator: c } = setup(t)
  const { a, b } = await stablePair(c)
  const aJoin = c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  assert.equal(await peek(aJoin), PENDING)
  c.leave({ groupId: 'g', members: [{ memberId: b.memberId, groupInstanceId: null }] })
  assert.equal((await aJoin).generationId, 3)
})

test('MEMBER_ID_REQUIRED hands out an id that must be used before the session ends', async (t) => {
  const { coordinator: c, advance } = setup(t)
  const first = await c.join(joinRequest({ requireKnownMemberId: true, clientId: 'rdkafka' }))
  assert.equal(first.error, 'MEMBER_ID_REQUIRED')
  assert.equal(first.generationId, -1)
  assert.match(first.memberId, /^rdkafka-[0-9a-f-]{36}$/)
  const joined = await c.join(joinRequest({ requireKnownMemberId: true, memberId: first.memberId }))
  assert.equal(joined.error, 'NONE')
  assert.equal(joined.memberId, first.memberId)
  assert.equal(joined.generationId, 1)

  const late = await c.join(joinRequest({ groupId: 'h', requireKnownMemberId: true }))
  advance(10_000)
  const expired = await c.join(joinRequest({ groupId: 'h', requireKnownMemberId: true, memberId: late.memberId }))
  assert.equal(expired.error, 'UNKNOWN_MEMBER_ID')
  assert.equal((await c.join(joinRequest({ groupId: 'x', memberId: 'made-up' }))).error, 'UNKNOWN_MEMBER_ID')
})

test('a pending member id holds the join barrier until it joins', async (t) => {
  const { coordinator: c } = setup(t)
  const { a, b } = await stablePair(c)
  const pending = await c.join(joinRequest({ requireKnownMemberId: true }))
  assert.equal(pending.error, 'MEMBER_ID_REQUIRED')
  assert.equal(c.describe('g').state, 'Stable', 'handing out an id does not rebalance')
  c.leave({ groupId: 'g', members: [{ memberId: b.memberId, groupInstanceId: null }] })
  const aJoin = c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  assert.equal(await peek(aJoin), PENDING, 'the handed-out id may still join this generation')
  const third = await c.join(joinRequest({ requireKnownMemberId: true, memberId: pending.memberId }))
  assert.equal(third.generationId, 3)
  assert.equal((await aJoin).members.length, 2)
})

test('static membership: a restart takes over the instance without a rebalance and fences the old id', async (t) => {
  const { coordinator: c } = setup(t)
  const old = await stableSingle(c, { groupInstanceId: 'i1' })
  const restarted = await c.join(joinRequest({ groupInstanceId: 'i1' }))
  assert.equal(restarted.error, 'NONE')
  assert.notEqual(restarted.memberId, old.memberId)
  assert.equal(restarted.generationId, 1, 'no rebalance')
  assert.equal(restarted.leader, old.memberId, 'the old leader id keeps the rejoined leader from assigning')
  assert.deepEqual(restarted.members, [])
  assert.equal(c.describe('g').state, 'Stable')
  assert.equal(heartbeat(c, old, 'i1'), 'FENCED_INSTANCE_ID')
  assert.equal((await c.sync(syncRequest(old, { groupInstanceId: 'i1' }))).error, 'FENCED_INSTANCE_ID')
  assert.equal(
    (await c.join(joinRequest({ groupInstanceId: 'i1', memberId: old.memberId }))).error,
    'FENCED_INSTANCE_ID',
  )
  const synced = await c.sync(syncRequest(restarted, { groupInstanceId: 'i1' }))
  assert.equal(synced.assignment.toString(), `a:${old.memberId}`, 'the assignment carries over')
  assert.equal(heartbeat(c, restarted, 'i1'), 'NONE')

  // KIP-814: a client that understands skipAssignment learns it is the leader.
  const again = await c.join(joinRequest({ groupInstanceId: 'i1', supportsSkipAssignment: true }))
  assert.equal(again.leader, again.memberId)
  assert.equal(again.skipAssignment, true)
  assert.equal(again.members.length, 1)
})

test('static membership: a replaced member parked in join is fenced; protocol changes rebalance', async (t) => {
  const { coordinator: c } = setup(t)
  const { a, b } = await stablePair(c)
  const s = c.join(joinRequest({ groupInstanceId: 's1', clientId: 's' }))
  assert.equal(await peek(s), PENDING)
  const replacement = c.join(joinRequest({ groupInstanceId: 's1', clientId: 's' }))
  const fenced = await s
  assert.equal(fenced.error, 'FENCED_INSTANCE_ID')
  assert.equal(await peek(replacement), PENDING, 'still waiting for a and b')
  c.join(joinRequest({ clientId: 'a', memberId: a.memberId }))
  c.join(joinRequest({ clientId: 'b', memberId: b.memberId }))
  const joined = (await peek(replacement)) as JoinResponse
  assert.equal(joined.generationId, 3)
  assert.equal(c.describe('g').members.length, 3)

  // A static restart that changes the group's protocol choice does rebalance.
  const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }))
  await stableSingle(c, { groupId: 'solo', groupInstanceId: 'x', protocols: p('range', 'roundrobin') })
  const same = await c.join(joinRequest({ groupId: 'solo', groupInstanceId: 'x', protocols: p('range', 'sticky') }))
  assert.equal(same.generationId, 1, 'range is still the choice: no rebalance')
  const changed = await c.join(joinRequest({ groupId: 'solo', groupInstanceId: 'x', protocols: p('sticky', 'range') }))
  assert.equal(changed.generationId, 2)
  assert.equal(changed.protocolName, 'sticky')
})

test('static members survive a missed rebalance and leave only by session timeout', async (t) => {
  const { coordinator: c, advance } = setup(t)
  const s = await stableSingle(c, { groupInstanceId: 's1', clientId: 's' })
  const dJoin = c.join(joinRequest({ clientId: 'd' }))
  for (let elapsed = 0; elapsed < 30_000; elapsed += 5000) {
    assert.equal(heartbeat(c, s, 's1'), 'REBALANCE_IN_PROGRESS')
    advance(5000)
  }
  const d = (await peek(dJoin)) as JoinResponse
  assert.equal(d.generationId, 2)
  assert.equal(d.leader, d.memberId, 'the static member did not rejoin, so a joined member leads')
  assert.deepEqual(d.members.map((m) => m.groupInstanceId).sort(), [null, 's1'].sort())
  const dSync = await c.sync(syncRequest(d, { assignments: [] }))
  assert.equal(dSync.error, 'NONE')
  // The static member now goes silent: only its session timeout removes it, and that rebalances.
  for (let elapsed = 0; elapsed < 10_000; elapsed += 2500) {
    assert.equal(heartbeat(c, d), 'NONE')
    advance(2500)
  }
  assert.equal(heartbeat(c, d), 'REBALANCE_IN_PROGRESS')
  assert.equal(c.describe('g').members.length, 1)
})

test('protocol selection by votes, and INCONSISTENT_GROUP_PROTOCOL', async (t) => {
  const { coordinator: c, advance } = setup(t, { initialRebalanceDelayMs: 100 })
  const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }))
  const joins = [
    c.join(joinRequest({ protocols: p('range', 'roundrobin', 'sticky') })),
    c.join(joinRequest({ protocols: p('roundrobin', 'range') })),
    c.join(joinRequest({ protocols: p('roundrobin', 'range', 'cooperative') })),
  ]
  const mismatch = await c.join(joinRequest({ protocols: p('sticky') }))
  assert.equal(mismatch.error, 'INCONSISTENT_GROUP_PROTOCOL')
  assert.equal(
    (await c.join(joinRequest({ protocolType: 'connect', protocols: p('range') }))).error,
    'INCONSISTENT_GROUP_PROTOCOL',
  )
  assert.equal((await c.join(joinRequest({ groupId: 'new', protocols: [] }))).error, 'INCONSISTENT_GROUP_PROTOCOL')
  advance(100) // members arrived during the delay: it runs once more
  assert.equal(await peek(joins[0]!), PENDING)
  advance(100)
  const results = await Promise.all(joins)
  for (const r of results) assert.equal(r.protocolName, 'roundrobin')
  const leader = results.find((r) => r.leader === r.memberId)!
  assert.deepEqual(
    leader.members.map((m) => m.metadata.toString()),
    ['roundrobin', 'roundrobin', 'roundrobin'],
    'the leader sees every member metadata for the chosen protocol',
  )
})

test('static membership: a fenced member id cannot commit offsets or leave; the current one can', async (t) => {
  const { coordinator: c } = setup(t)
  const old = await stableSingle(c, { groupInstanceId: 'i1' })
  const restarted = await c.join(joinRequest({ groupInstanceId: 'i1' }))
  await c.sync(syncRequest(restarted, { groupInstanceId: 'i1' }))
  const commit = (memberId: string) =>
    c.commitOffsets({
      groupId: 'g',
      generationId: restarted.generationId,
      memberId,
      groupInstanceId: 'i1',
      offsets: [{ topic: 't', partition: 0, offset: 5, metadata: null }],
    })
  assert.equal((await commit(old.memberId)).error, 'FENCED_INSTANCE_ID')
  assert.equal((await commit(restarted.memberId)).error, 'NONE')
  const stale = c.leave({ groupId: 'g', members: [{ memberId: old.memberId, groupInstanceId: 'i1' }] })
  assert.deepEqual(
    stale.members.map((m) => m.error),
    ['FENCED_INSTANCE_ID'],
  )
  assert.equal(c.describe('g').members.length, 1, 'the fenced leave removed nobody')
  const left = c.leave({ groupId: 'g', members: [{ memberId: restarted.memberId, groupInstanceId: 'i1' }] })
  assert.deepEqual(
    left.members.map((m) => m.error),
    ['NONE'],
  )
  assert.equal(c.describe('g').state, 'Empty')
})
