// The resource alarm monitor with injected readers: thresholds crossed in both directions set and clear
// alarms, listeners hear every change (and only changes), forced alarms override measurements.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Alarm, createAlarmMonitor } from '../../src/server/alarms.ts'

function setup(diskFreeLimitBytes: number, memoryHighWatermarkBytes: number) {
  const readings = { free: 10_000, rss: 100 }
  const monitor = createAlarmMonitor({
    dataDir: '/nowhere',
    diskFreeLimitBytes,
    memoryHighWatermarkBytes,
    intervalMs: 0,
    statfs: async () => ({ bavail: BigInt(readings.free / 4), bsize: 4n }),
    rss: () => readings.rss,
  })
  const changes: Alarm[][] = []
  monitor.onChange((alarms) => changes.push(alarms))
  return { readings, monitor, changes }
}

test('disk alarm: raised under the free-space limit, cleared above it, onChange once per change', async () => {
  const { readings, monitor, changes } = setup(1000, 0)
  await monitor.check()
  assert.deepEqual(monitor.current(), [])
  assert.equal(changes.length, 0)
  readings.free = 400
  await monitor.check()
  const [alarm] = monitor.current()
  assert.equal(alarm?.kind, 'disk')
  assert.equal(alarm?.value, 400)
  assert.equal(alarm?.limit, 1000)
  assert.match(alarm?.message ?? '', /disk/)
  assert.equal(changes.length, 1)
  await monitor.check() // still low: no new notification
  assert.equal(changes.length, 1)
  readings.free = 4000
  await monitor.check()
  assert.deepEqual(monitor.current(), [])
  assert.equal(changes.length, 2)
  assert.deepEqual(changes[1], [])
  monitor.close()
})

test('memory alarm: over the watermark raises, clears only below 90% of it (no flapping)', async () => {
  const { readings, monitor, changes } = setup(0, 1000)
  readings.rss = 1001
  await monitor.check()
  assert.deepEqual(
    monitor.current().map((a) => a.kind),
    ['memory'],
  )
  readings.rss = 950 // under the mark, above the clear level
  await monitor.check()
  assert.equal(monitor.current().length, 1)
  readings.rss = 850
  await monitor.check()
  assert.equal(monitor.current().length, 0)
  assert.equal(changes.length, 2)
  monitor.close()
})

test('limits of 0 disable the checks; forced alarms are reported until cleared by hand', async () => {
  const { readings, monitor, changes } = setup(0, 0)
  readings.free = 0
  readings.rss = 1e12
  await monitor.check()
  assert.deepEqual(monitor.current(), [])
  monitor.force('disk', 'test disk alarm')
  assert.deepEqual(
    monitor.current().map((a) => [a.kind, a.message, a.forced]),
    [['disk', 'test disk alarm', true]],
  )
  await monitor.check() // a measurement does not clear a forced alarm
  assert.equal(monitor.current().length, 1)
  monitor.force('disk', null)
  assert.deepEqual(monitor.current(), [])
  assert.equal(changes.length, 2)
  monitor.close()
})

test('a failing statfs raises no alarm; the real statfs reads the data directory', async () => {
  const monitor = createAlarmMonitor({
    dataDir: '/nowhere',
    diskFreeLimitBytes: 1,
    memoryHighWatermarkBytes: 0,
    intervalMs: 0,
    statfs: async () => {
      throw new Error('EIO')
    },
  })
  await monitor.check()
  assert.deepEqual(monitor.current(), [])
  monitor.close()
  // A limit no disk can meet: the real reader must raise the alarm.
  const real = createAlarmMonitor({
    dataDir: process.cwd(),
    diskFreeLimitBytes: Number.MAX_SAFE_INTEGER,
    memoryHighWatermarkBytes: 0,
    intervalMs: 0,
  })
  await real.check()
  assert.deepEqual(
    real.current().map((a) => a.kind),
    ['disk'],
  )
  assert.ok((real.current()[0]?.value ?? 0) > 0)
  real.close()
})
