// Process-level resource alarms: free disk space of the data directory and resident memory, checked on one
// timer. Listeners read them through the context (`alarms.current()`, `alarms.onChange(cb)`) and decide what
// an alarm means for their protocol (AMQP: connection.blocked and stop reading publishers).
import { statfs as fsStatfs } from 'node:fs/promises'
import type { Alarm as ListenerAlarm, AlarmSource as ListenerAlarmSource } from '../protocols/common/listener.js'
import type { Logger } from '../util/logger.js'

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
  /** RSS above which the memory alarm is raised; 0 disables it. */
  memoryHighWatermarkBytes: number
  /** 0 = no timer (tests call check()). */
  intervalMs?: number
  logger?: Logger
  /** Injected readers (tests). */
  statfs?: (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>
  rss?: () => number
}

const DEFAULT_INTERVAL_MS = 5000
// Clear the memory alarm only well below the mark, so a process hovering at it does not flap.
const MEMORY_CLEAR_RATIO = 0.9

const MIB = 1024 * 1024
const mib = (n: number) => `${(n / MIB).toFixed(1)} MiB`

export function createAlarmMonitor(options: AlarmMonitorOptions): AlarmMonitor {
  const statfs = options.statfs ?? ((path: string) => fsStatfs(path))
  const rss = options.rss ?? (() => process.memoryUsage.rss())
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
      const used = rss()
      const raised = active.has('memory')
      const over = raised ? used >= memoryLimit * MEMORY_CLEAR_RATIO : used > memoryLimit
      changed =
        update(
          'memory',
          over
            ? {
                kind: 'memory',
                message: `low on memory: RSS ${mib(used)} over the high watermark ${mib(memoryLimit)}`,
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

  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS
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
