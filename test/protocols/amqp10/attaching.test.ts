// Frames a client pipelines behind its attach (flow, detach) wait for the attach and then run in order.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Attaching } from '../../../src/protocols/amqp10/attaching.ts'
import { Amqp10FrameError } from '../../../src/protocols/amqp10/codec/frames.ts'

test('work for a handle being attached waits for the attach and runs in order; other handles run at once', () => {
  const attaching = new Attaching()
  const ran: string[] = []
  attaching.start(3, false)
  attaching.run(3, () => ran.push('flow 3'))
  attaching.run(4, () => ran.push('flow 4'))
  attaching.run(undefined, () => ran.push('session flow'))
  attaching.run(3, () => ran.push('detach 3'))
  assert.deepEqual(ran, ['flow 4', 'session flow'])
  attaching.done(3)
  assert.deepEqual(ran, ['flow 4', 'session flow', 'flow 3', 'detach 3'])
  attaching.run(3, () => ran.push('later'))
  assert.equal(ran.at(-1), 'later')
})

test('an attach on a handle in use or being attached is amqp:session:handle-in-use', () => {
  const attaching = new Attaching()
  assert.throws(
    () => attaching.start(1, true),
    (e: unknown) => e instanceof Amqp10FrameError && e.condition === 'amqp:session:handle-in-use',
  )
  attaching.start(2, false)
  assert.throws(() => attaching.start(2, false), Amqp10FrameError)
})

test('a waiting frame that finds its link refused is dropped; the others still run', () => {
  const attaching = new Attaching()
  const ran: string[] = []
  attaching.start(5, false)
  attaching.run(5, () => {
    throw new Amqp10FrameError('flow on unattached handle 5', 'amqp:session:unattached-handle')
  })
  attaching.run(5, () => ran.push('next'))
  attaching.done(5)
  assert.deepEqual(ran, ['next'])
})
