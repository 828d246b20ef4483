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
    memoryInUse: () => readings.rss,
    gc: null,
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

test('memory alarm: a reading over the mark is believed only after a full GC (garbage does not raise or hold it)', async () => {
  // Memory that a GC frees: the reader reports it until the injected gc() runs.
  const readings = { live: 100, garbage: 0 }
  let gcs = 0
  const monitor = createAlarmMonitor({
    dataDir: '/nowhere',
    diskFreeLimitBytes: 0,
    memoryHighWatermarkBytes: 1000,
    intervalMs: 0,
    memoryInUse: () => readings.live + readings.garbage,
    gc: () => {
      gcs++
      readings.garbage = 0
    },
    gcIntervalMs: 0,
  })
  readings.garbage = 2000
  await monitor.check()
  assert.deepEqual(monitor.current(), [], 'garbage alone raises nothing')
  assert.equal(gcs, 1)
  readings.live = 1500
  await monitor.check()
  assert.equal(monitor.current()[0]?.kind, 'memory', 'live memory over the mark raises it')
  assert.equal(monitor.current()[0]?.value, 1500)
  // The data is dropped but not yet collected (a blocked broker allocates little, so V8 would not collect).
  readings.garbage = readings.live
  readings.live = 100
  await monitor.check()
  assert.deepEqual(monitor.current(), [], 'cleared at the next check, not when V8 gets round to it')
  assert.equal(gcs, 3)
  await monitor.check()
  assert.equal(gcs, 3, 'no GC while the reading is under the mark')
  monitor.close()
})

test('memory alarm: forced GCs are rate-limited; a reading over the mark waits for the next one', async () => {
  const readings = { used: 2000 }
  let gcs = 0
  const monitor = createAlarmMonitor({
    dataDir: '/nowhere',
    diskFreeLimitBytes: 0,
    memoryHighWatermarkBytes: 1000,
    intervalMs: 0,
    memoryInUse: () => readings.used,
    gc: () => {
      gcs++
    },
    gcIntervalMs: 60_000,
  })
  await monitor.check()
  assert.equal(monitor.current().length, 1)
  readings.used = 100
  await monitor.check()
  assert.equal(monitor.current().length, 0)
  readings.used = 2000
  await monitor.check()
  assert.equal(gcs, 1, 'one GC per interval')
  assert.equal(monitor.current().length, 0, 'not raised on an unconfirmed reading')
  monitor.close()
})

test('memory alarm with the real readers: raised by live buffers, cleared once they are dropped', async () => {
  const { memoryInUse, fullGc } = await import('../../src/util/memory.ts')
  const gc = fullGc()
  assert.ok(gc, 'a full GC can be run without --expose-gc')
  gc()
  const baseline = memoryInUse()
  const monitor = createAlarmMonitor({
    dataDir: '/nowhere',
    diskFreeLimitBytes: 0,
    memoryHighWatermarkBytes: baseline + 100 * 1024 * 1024,
    intervalMs: 0,
    gcIntervalMs: 0,
  })
  let data: Buffer[] | null = []
  for (let i = 0; i < 200; i++) data.push(Buffer.alloc(1024 * 1024, i))
  await monitor.check()
  assert.equal(monitor.current()[0]?.kind, 'memory')
  assert.equal(data.length, 200)
  data = null
  // The buffers are garbage now; RSS would stay up (the allocator keeps the pages), the alarm must not.
  // Forced GCs are spaced by ten times their duration: check again for a while, as the timer would.
  for (let i = 0; i < 100 && monitor.current().length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    await monitor.check()
  }
  assert.deepEqual(monitor.current(), [])
  monitor.close()
})

test('the alarm interval is a setting: 1 s by default, WHARF_ALARM_INTERVAL_MS / --alarm-interval-ms', async () => {
  const { loadConfig } = await import('../../src/server/config.ts')
  assert.equal(loadConfig({ env: {} }).alarmIntervalMs, 1000)
  assert.equal(loadConfig({ env: { WHARF_ALARM_INTERVAL_MS: '250' } }).alarmIntervalMs, 250)
  assert.equal(loadConfig({ env: {}, flags: { alarmIntervalMs: '100' } }).alarmIntervalMs, 100)
  assert.throws(
    () => loadConfig({ env: { WHARF_ALARM_INTERVAL_MS: '0' } }),
    /WHARF_ALARM_INTERVAL_MS must be a positive integer/,
  )
})

test('the memory gauge: re-read after a GC when over the mark; GCs spaced by the interval and 10× their duration', async () => {
  const { createMemoryGauge } = await import('../../src/util/memory.ts')
  let clock = 0
  let reading = 2000
  let gcs = 0
  const gauge = createMemoryGauge({
    read: () => reading,
    gc: () => {
      gcs++
      clock += 1000 // a slow, one-second GC
    },
    gcIntervalMs: 5000,
    now: () => clock,
  })
  assert.deepEqual(gauge.measure(1000), { bytes: 2000, collected: true })
  assert.equal(gcs, 1)
  clock += 6000 // past the interval, not yet 10 × 1 s after the GC ended
  assert.deepEqual(gauge.measure(1000), { bytes: 2000, collected: false })
  assert.equal(gcs, 1)
  clock += 4000
  assert.equal(gauge.measure(1000).collected, true)
  assert.equal(gcs, 2)
  reading = 500
  assert.deepEqual(gauge.measure(1000), { bytes: 500, collected: true }, 'under the mark: no GC')
  assert.equal(gcs, 2)
})
