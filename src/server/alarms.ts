// Process-level resource alarms: free disk space of the data directory and memory in use (V8 heap plus
// Buffers, confirmed after a full GC; see util/memory.ts for why not RSS), checked on one timer. Listeners
// read them through the context (`alarms.current()`, `alarms.onChange(cb)`) and decide what an alarm means
// for their protocol (AMQP: connection.blocked and stop reading publishers).
import { statfs as fsStatfs } from 'node:fs/promises'
import type { Alarm as ListenerAlarm, AlarmSource as ListenerAlarmSource } from '../protocols/common/listener.js'
import type { Logger } from '../util/logger.js'
import { createMemoryGauge } from '../util/memory.js'

export type AlarmKind = 'disk' | 'memory'

/** One alarm as the monitor raises it: the listeners' Alarm with the kinds this monitor measures. */
export interface Alarm extends ListenerAlarm {
  kind: AlarmKind
}

/** The monitor's view for listeners and the admin API. */
export type AlarmSource = ListenerAlarmSource<Alarm>

export interface AlarmMonitor extends AlarmSource {
  /** One measurement now (the timer calls this too); resolves once alarms are updated. */
  check(): Promise<void>
  /** Raises (message) or clears (null) an alarm by hand; a forced alarm ignores measurements until cleared. */
  force(kind: AlarmKind, message: string | null): void
  close(): void
}

export interface AlarmMonitorOptions {
  dataDir: string
  /** Free bytes below which the disk alarm is raised; 0 disables it. */
  diskFreeLimitBytes: number
  /**
   * Memory in use (V8 heap used + external: Buffers and ArrayBuffers) above which the memory alarm is raised;
   * 0 disables it. A reading over it counts only after a full GC, so garbage and pages the allocator keeps do
   * not hold the alarm.
   */
  memoryHighWatermarkBytes: number
  /** How often both are measured; 0 = no timer (tests call check()). */
  intervalMs?: number
  logger?: Logger
  /** Injected readers (tests). */
  statfs?: (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>
  memoryInUse?: () => number
  /** The full GC run before a reading over the mark is believed (null: none; default: util/memory fullGc). */
  gc?: (() => void) | null
  /** Forced GCs at most this often (default 5 s). */
  gcIntervalMs?: number
}

/** Often enough that transient queues cannot grow far past the mark between checks; a check is two syscalls. */
export const ALARM_INTERVAL_MS_DEFAULT = 1000
// Clear the memory alarm only well below the mark, so a process hovering at it does not flap.
const MEMORY_CLEAR_RATIO = 0.9

const MIB = 1024 * 1024
const mib = (n: number) => `${(n / MIB).toFixed(1)} MiB`

export function createAlarmMonitor(options: AlarmMonitorOptions): AlarmMonitor {
  const statfs = options.statfs ?? ((path: string) => fsStatfs(path))
  const memory = createMemoryGauge({
    read: options.memoryInUse,
    gc: options.gc,
    gcIntervalMs: options.gcIntervalMs,
  })
  const active = new Map<AlarmKind, Alarm>()
  const forced = new Map<AlarmKind, Alarm>()
  const listeners = new Set<(alarms: Alarm[]) => void>()
  let closed = false
  let checking: Promise<void> | null = null

  const current = (): Alarm[] => {
    const out: Alarm[] = []
    for (const kind of ['disk', 'memory'] as const) {
      const alarm = forced.get(kind) ?? active.get(kind)
      if (alarm !== undefined) out.push({ ...alarm })
    }
    return out
  }
  const notify = () => {
    const list = current()
    for (const callback of listeners) {
      try {
        callback(list)
      } catch (error) {
        options.logger?.error({ err: error }, 'alarm listener failed')
      }
    }
  }
  /** Sets or clears a measured alarm; true if that changed anything. */
  const update = (kind: AlarmKind, next: Alarm | null): boolean => {
    const previous = active.get(kind)
    if (next === null) {
      if (previous === undefined) return false
      active.delete(kind)
      options.logger?.info({ alarm: kind }, 'alarm cleared')
      return true
    }
    if (previous !== undefined) return false
    active.set(kind, next)
    options.logger?.warn({ alarm: kind, value: next.value, limit: next.limit }, next.message)
    return true
  }

  const measure = async () => {
    let changed = false
    const diskLimit = options.diskFreeLimitBytes
    if (diskLimit > 0) {
      try {
        const s = await statfs(options.dataDir)
        const free = Number(s.bavail) * Number(s.bsize)
        changed =
          update(
            'disk',
            free < diskLimit
              ? {
                  kind: 'disk',
                  message: `low on disk space: ${mib(free)} free, limit ${mib(diskLimit)}`,
                  since: Date.now(),
                  value: free,
                  limit: diskLimit,
                }
              : null,
          ) || changed
      } catch (error) {
        // An unreadable file system is not a reason to block publishers; the storage layer reports real I/O errors.
        options.logger?.warn({ err: error }, 'disk space check failed')
      }
    }
    const memoryLimit = options.memoryHighWatermarkBytes
    if (memoryLimit > 0) {
      const raised = active.has('memory')
      const clearBelow = memoryLimit * MEMORY_CLEAR_RATIO
      const { bytes: used, collected } = memory.measure(raised ? clearBelow : memoryLimit)
      // Over the mark but no GC was due: the reading may be garbage; keep the alarm as it is until one is.
      const over = collected ? (raised ? used >= clearBelow : used > memoryLimit) : raised
      changed =
        update(
          'memory',
          over
            ? {
                kind: 'memory',
                message: `low on memory: ${mib(used)} in use (heap + buffers) over the high watermark ${mib(memoryLimit)}`,
                since: Date.now(),
                value: used,
                limit: memoryLimit,
              }
            : null,
        ) || changed
    }
    if (changed && !closed) notify()
  }

  const check = (): Promise<void> => {
    // One measurement at a time: a slow statfs must not pile up behind the timer.
    checking ??= measure().finally(() => {
      checking = null
    })
    return checking
  }

  const intervalMs = options.intervalMs ?? ALARM_INTERVAL_MS_DEFAULT
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          // A failed measurement is not an alarm and must never surface as an unhandled rejection.
          check().catch(() => {})
        }, intervalMs)
      : null
  timer?.unref()

  return {
    current,
    onChange(callback) {
      listeners.add(callback)
      return () => listeners.delete(callback)
    },
    check,
    force(kind, message) {
      if (message === null) {
        if (!forced.delete(kind)) return
      } else {
        if (forced.get(kind)?.message === message) return
        forced.set(kind, { kind, message, since: Date.now(), value: 0, limit: 0, forced: true })
      }
      options.logger?.warn({ alarm: kind, forced: message !== null }, message ?? 'forced alarm cleared')
      notify()
    },
    close() {
      closed = true
      if (timer !== null) clearInterval(timer)
      listeners.clear()
    },
  }
}
