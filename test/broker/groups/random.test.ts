// Random operation sequences against the coordinator, checking invariants after every step: leaders are
// members, generations never go back, parked requests always get an answer (at the latest on close).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { JoinResponse, SyncResponse } from '../../../src/broker/groups/index.ts'
import { joinRequest, setup, syncRequest } from './helpers.ts'

const STEPS = process.env.WHARF_LONG === '1' ? 20_000 : 600

/** Small deterministic PRNG (mulberry32) so failures replay. */
function prng(seed: number) {
  let a = seed >>> 0
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) % n) as number
  }
}

for (const seed of [1, 2, 3]) {
  test(`random membership operations keep the group consistent (seed ${seed})`, async (t) => {
    const { coordinator: c, advance } = setup(t, { initialRebalanceDelayMs: seed === 2 ? 500 : 0 })
    const random = prng(seed)
    const clients = ['a', 'b', 'c', 'd'].map((clientId, i) => ({
      clientId,
      instance: i === 3 ? 'static-d' : null,
      memberId: '',
      generationId: -1,
    }))
    const parked: Array<Promise<JoinResponse | SyncResponse>> = []
    let lastGeneration = 0
    for (let step = 0; step < STEPS; step++) {
      const client = clients[random(clients.length)]!
      const base = { groupInstanceId: client.instance, clientId: client.clientId }
      switch (random(6)) {
        case 0:
        case 1: {
          const join = c.join(joinRequest({ ...base, memberId: client.memberId, requireKnownMemberId: true }))
          parked.push(join)
          join.then((r) => {
            if (r.error === 'NONE' || r.error === 'MEMBER_ID_REQUIRED') client.memberId = r.memberId
            if (r.error === 'NONE') client.generationId = r.generationId
            if (r.error === 'UNKNOWN_MEMBER_ID' || r.error === 'FENCED_INSTANCE_ID') client.memberId = ''
          })
          break
        }
        case 2: {
          const assignments = clients.map((x) => ({ memberId: x.memberId, assignment: Buffer.from(x.clientId) }))
          parked.push(
            c.sync(
              syncRequest({ generationId: client.generationId, memberId: client.memberId } as JoinResponse, {
                groupInstanceId: client.instance,
                assignments,
              }),
            ),
          )
          break
        }
        case 3:
          c.heartbeat({
            groupId: 'g',
            generationId: client.generationId,
            memberId: client.memberId,
            groupInstanceId: client.instance,
          })
          break
        case 4:
          if (random(4) === 0) {
            c.leave({ groupId: 'g', members: [{ memberId: client.memberId, groupInstanceId: client.instance }] })
          }
          break
        default:
          advance(random(4) === 0 ? 11_000 : 700)
      }
      await new Promise((resolve) => setImmediate(resolve))
      const group = c.groups.get('g')
      if (group === undefined) continue
      assert.ok(group.generationId >= lastGeneration, 'generations only move forward')
      lastGeneration = group.generationId
      if (group.members.size === 0) assert.ok(group.leaderId === null)
      else assert.ok(group.members.has(group.leaderId!), 'the leader is a member')
      if (group.state === 'Empty') assert.equal(group.members.size, 0)
      if (group.state === 'CompletingRebalance' || group.state === 'Stable') assert.ok(group.members.size > 0)
      for (const [instance, memberId] of group.staticMembers) {
        assert.equal(group.members.get(memberId)?.groupInstanceId, instance, 'static index points at its member')
      }
      for (const memberId of group.pendingSync) assert.ok(group.members.has(memberId))
    }
    c.close()
    const answers = await Promise.all(parked)
    assert.equal(answers.length, parked.length, 'every parked request got an answer')
    assert.ok(lastGeneration > 1, 'the sequence did exercise rebalances')
  })
}
