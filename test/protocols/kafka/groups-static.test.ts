// KIP-345 static membership with librdkafka (confluent-kafka) consumers: a static member restarted within its
// session timeout takes its old assignment back without a rebalance (the other member sees no callback and
// the generation does not move), a second process claiming a live instance id fences the first
// (FENCED_INSTANCE_ID), and LeaveGroup v3+ removes static members by instance id in one batch.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { ApiKey, type LeaveGroupResponse } from '../../../src/protocols/kafka/codec/index.ts'
import { run, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const script = join(import.meta.dirname, 'python', 'static_members.py')
const UNKNOWN_MEMBER_ID = 25

interface Event {
  phase: string
  consumer: string
  kind: 'assign' | 'revoke'
  partitions: number[]
}

test('static members: restart without a rebalance, fencing of a stale instance, batch leave by instance id', async (t) => {
  const h = await startHarness(t)
  const partitions = 4
  await h.broker.createStream('static-topic', { partitions })
  // The group's generation over time, to tell when a rebalance happened.
  const generations: Array<{ at: number; generation: number }> = []
  const sampler = setInterval(() => {
    const group = h.broker.groups.groups.get('static')
    if (group !== undefined) generations.push({ at: Date.now(), generation: group.generationId })
  }, 50)
  t.after(() => clearInterval(sampler))
  const { stdout } = await run('/usr/bin/python3', [script, String(h.port), 'static-topic', String(partitions)], {
    timeoutMs: 240_000,
  })
  clearInterval(sampler)
  const summary = JSON.parse(stdout) as {
    events: Event[]
    errors: Array<{ phase: string; consumer: string; error: string; fatal: boolean }>
    times: Record<string, { settled: number } | number>
    before: Record<string, string>
    a3Assignment: number[]
  }
  const detail = JSON.stringify(summary)
  const at = (key: string) => {
    const v = summary.times[key]!
    return typeof v === 'number' ? v : v.settled
  }
  const generationAt = (ms: number) => generations.filter((g) => g.at <= ms).at(-1)?.generation
  const of = (phase: string, consumer: string, kind: Event['kind']) =>
    summary.events.filter((e) => e.phase === phase && e.consumer === consumer && e.kind === kind)
  const ownedBefore = (name: string) =>
    Object.entries(summary.before)
      .filter(([, o]) => o === name)
      .map(([p]) => Number(p))
      .sort((a, b) => a - b)

  // Restart: the new process gets the old one's partitions; b is not touched; no new generation.
  assert.deepEqual(
    of('restart', 'a2', 'assign').flatMap((e) => e.partitions),
    ownedBefore('a'),
    detail,
  )
  assert.deepEqual(of('restart', 'b', 'assign'), [], detail)
  assert.deepEqual(of('restart', 'b', 'revoke'), [], detail)
  const stable = generationAt(at('start'))
  assert.ok(stable !== undefined && stable > 0, detail)
  assert.equal(generationAt(at('restart')), stable, 'the restart did not rebalance')

  // Fencing: a3 claims instance-a while a2 runs; a2 is told it is fenced, a3 holds a's partitions, b is untouched.
  const fenced = summary.errors.filter((e) => e.consumer === 'a2')
  assert.ok(
    // librdkafka turns FENCED_INSTANCE_ID into a fatal consumer error (code _FATAL) naming the fencing.
    fenced.some((e) => e.error.includes('code=_FATAL') && /fenced by other consumer/i.test(e.error)),
    `a2 fenced: ${JSON.stringify(summary.errors)}`,
  )
  assert.deepEqual(summary.a3Assignment, ownedBefore('a'), detail)
  assert.deepEqual(of('fence', 'b', 'revoke'), [], detail)
  assert.equal(generationAt(at('fence')), stable, 'taking over a static instance did not rebalance')

  // The consumers closed without leaving (static): both instances are still members until an admin removes
  // them, here with one LeaveGroup v4 naming instance ids (KIP-345).
  const group = h.broker.groups.groups.get('static')!
  assert.deepEqual([...group.staticMembers.keys()].sort(), ['instance-a', 'instance-b'])
  const raw = new RawClient(h.port)
  t.after(() => raw.socket.destroy())
  raw.send(ApiKey.LeaveGroup, 4, 1, {
    groupId: 'static',
    members: ['instance-a', 'instance-b', 'instance-unknown'].map((groupInstanceId) => ({
      memberId: '',
      groupInstanceId,
    })),
  })
  const left = (await raw.response<LeaveGroupResponse>(ApiKey.LeaveGroup, 4)).body
  assert.equal(left.errorCode, 0)
  assert.deepEqual(
    left.members!.map((m) => [m.groupInstanceId, m.errorCode]),
    [
      ['instance-a', 0],
      ['instance-b', 0],
      ['instance-unknown', UNKNOWN_MEMBER_ID],
    ],
  )
  assert.equal(h.broker.groups.describe('static').state, 'Empty')
})
