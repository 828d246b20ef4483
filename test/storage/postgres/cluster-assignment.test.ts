// The controller's pure assignment function: orphans to the least-loaded live member, stable for live
// owners, rebalance down to ceil(logs / members) when a member joins.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assignLogs, type LogOwner, type Move } from '../../../src/storage/postgres/cluster/assignment.ts'

function apply(logs: LogOwner[], moves: Move[]): LogOwner[] {
  const to = new Map(moves.map((move) => [move.name, move.to]))
  return logs.map((log) => ({ name: log.name, owner: to.get(log.name) ?? log.owner }))
}

function counts(logs: LogOwner[]): { [id: number]: number } {
  const out: { [id: number]: number } = {}
  for (const log of logs) if (log.owner !== null) out[log.owner] = (out[log.owner] ?? 0) + 1
  return out
}

const named = (n: number, owner: (i: number) => number | null = () => null): LogOwner[] =>
  Array.from({ length: n }, (_, i) => ({ name: `l${i}`, owner: owner(i) }))

test('unowned logs spread evenly, least-loaded first, ties to the lowest id', () => {
  const logs = named(6)
  const moves = assignLogs(logs, [3, 1, 2])
  assert.equal(moves.length, 6)
  assert.ok(moves.every((move) => move.from === null))
  assert.deepEqual(counts(apply(logs, moves)), { 1: 2, 2: 2, 3: 2 })
  assert.deepEqual(
    moves.slice(0, 3).map((move) => move.to),
    [1, 2, 3],
  )
})

test('logs of live owners stay; a dead owner’s logs go to the least loaded', () => {
  const logs = named(6, (i) => [1, 2, 3][i % 3]!)
  assert.deepEqual(assignLogs(logs, [1, 2, 3]), [], 'balanced and live: nothing moves')
  const moves = assignLogs(logs, [1, 2])
  assert.deepEqual(
    moves.map((move) => move.from),
    [3, 3],
    'only the dead member’s logs move',
  )
  assert.deepEqual(counts(apply(logs, moves)), { 1: 3, 2: 3 })
})

test('a member that joins receives logs until nobody holds more than ceil(n / members)', () => {
  const logs = named(6, (i) => (i < 3 ? 1 : 2))
  const moves = assignLogs(logs, [1, 2, 3])
  assert.equal(moves.length, 2)
  assert.ok(moves.every((move) => move.to === 3))
  assert.deepEqual(counts(apply(logs, moves)), { 1: 2, 2: 2, 3: 2 })
  // One broker created everything; the others get their share.
  const lopsided = named(7, () => 1)
  const spread = apply(lopsided, assignLogs(lopsided, [1, 2, 3]))
  assert.deepEqual(counts(spread), { 1: 3, 2: 2, 3: 2 })
  assert.deepEqual(assignLogs(spread, [1, 2, 3]), [], 'stable: a second pass moves nothing')
})

test('within the share, nothing moves even if uneven; no members or no logs: no moves', () => {
  const logs = named(7, (i) => (i < 3 ? 1 : i < 6 ? 2 : 3))
  assert.deepEqual(assignLogs(logs, [1, 2, 3]), [], '3/3/1 is within ceil(7/3) = 3')
  assert.deepEqual(assignLogs(logs, []), [])
  assert.deepEqual(assignLogs([], [1]), [])
})

test('an owner that is not a member counts as no owner', () => {
  const logs: LogOwner[] = [
    { name: 'a', owner: 9 },
    { name: 'b', owner: null },
  ]
  assert.deepEqual(assignLogs(logs, [4]), [
    { name: 'a', from: 9, to: 4 },
    { name: 'b', from: null, to: 4 },
  ])
})
