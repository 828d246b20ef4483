// KIP-429 cooperative-sticky rebalancing as librdkafka drives it over the classic group protocol: the broker
// only runs JoinGroup/SyncGroup rounds (a member that gave up partitions rejoins at once, which starts the
// second round); the incremental assign/revoke is the clients'. Proved with three confluent-kafka consumers.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { run, startHarness } from './harness.ts'

const script = join(import.meta.dirname, 'python', 'cooperative.py')

interface Event {
  phase: string
  consumer: string
  kind: 'assign' | 'revoke' | 'lost'
  partitions: number[]
}

test('cooperative-sticky: a joining and a leaving consumer move only the partitions that change owner', async (t) => {
  const h = await startHarness(t)
  const partitions = 6
  await h.broker.createStream('coop-topic', { partitions })
  // The protocol the coordinator selected, sampled while the group has members.
  const protocols = new Set<string>()
  const sampler = setInterval(() => protocols.add(h.broker.groups.describe('coop').protocol), 20)
  // Stopped before anything else: the harness closes the broker in its own after-hook, registered first.
  const { stdout } = await run('/usr/bin/python3', [script, String(h.port), 'coop-topic', String(partitions)], {
    timeoutMs: 240_000,
  }).finally(() => clearInterval(sampler))
  const summary = JSON.parse(stdout) as {
    events: Event[]
    violations: string[]
    missing: string[]
    produced: number
    consumed: number
  }
  const detail = JSON.stringify(summary.events)
  assert.deepEqual(summary.violations, [], 'no partition is owned by two consumers at once')
  assert.deepEqual(summary.missing, [], 'every produced record was consumed')
  assert.equal(summary.consumed, summary.produced)
  protocols.delete('')
  assert.deepEqual([...protocols], ['cooperative-sticky'])

  const of = (phase: string, kind: Event['kind'], consumer?: string) =>
    summary.events
      .filter((e) => e.phase === phase && e.kind === kind && (consumer === undefined || e.consumer === consumer))
      .flatMap((e) => e.partitions)
      .sort((a, b) => a - b)
  // A third joins: only what moves to it is revoked (incrementally), the others keep the rest unrevoked.
  const moved = of('join', 'revoke')
  assert.ok(moved.length > 0 && moved.length < partitions, `moved ${moved} of ${partitions}: ${detail}`)
  assert.deepEqual(moved, of('join', 'assign', 'c3'), detail)
  assert.deepEqual(of('join', 'assign', 'c1'), [], detail)
  assert.deepEqual(of('join', 'assign', 'c2'), [], detail)
  assert.deepEqual(of('join', 'lost'), [], detail)
  // The first leaves: it gives up its own partitions; the others are only assigned those, never revoked.
  assert.deepEqual(of('leave', 'revoke', 'c2'), [], detail)
  assert.deepEqual(of('leave', 'revoke', 'c3'), [], detail)
  assert.deepEqual(of('leave', 'assign'), of('leave', 'revoke', 'c1'), detail)
  assert.deepEqual(of('leave', 'lost'), [], detail)
})

// Two librdkafka consumers whose assignment strategies overlap in one: the coordinator picks the protocol every
// member supports (here the second's only one), and both get partitions under it.
const mixedStrategies = `
import json, sys, time
from confluent_kafka import Consumer
port = sys.argv[1]
assigned = {}
consumers = {}
for name, strategy in (('c1', 'range,roundrobin'), ('c2', 'roundrobin')):
    c = Consumer({'bootstrap.servers': '127.0.0.1:' + port, 'group.id': 'mixed', 'client.id': name,
                  'partition.assignment.strategy': strategy, 'session.timeout.ms': 10000})
    c.subscribe(['mixed-topic'], on_assign=lambda consumer, parts, name=name: assigned.__setitem__(name, sorted(p.partition for p in parts)))
    consumers[name] = c
deadline = time.time() + 60
while time.time() < deadline and not (len(assigned) == 2 and sum(len(v) for v in assigned.values()) == 4):
    for c in consumers.values():
        c.poll(0.05)
# The group stays a second with both members, for the test's sampler of the selected protocol.
until = time.time() + 1
while time.time() < until:
    for c in consumers.values():
        c.poll(0.05)
print(json.dumps(assigned))
for c in consumers.values():
    c.close()
`

test('protocol selection: members offering range+roundrobin and roundrobin alone get roundrobin', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('mixed-topic', { partitions: 4 })
  const protocols = new Set<string>()
  const sampler = setInterval(() => protocols.add(h.broker.groups.describe('mixed').protocol), 20)
  const { stdout } = await run('/usr/bin/python3', ['-c', mixedStrategies, String(h.port)], {
    timeoutMs: 120_000,
  }).finally(() => clearInterval(sampler))
  const assigned = JSON.parse(stdout) as Record<string, number[]>
  assert.deepEqual([...(assigned.c1 ?? []), ...(assigned.c2 ?? [])].sort(), [0, 1, 2, 3])
  protocols.delete('')
  assert.deepEqual([...protocols], ['roundrobin'])
})
