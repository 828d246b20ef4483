// How a listener that blocks publishers follows the server's resource alarms: one reason text for the active
// alarms (what a blocked client is told where its protocol can say so), current at start and after every
// change, and the count of connections an alarm holds back (the admin API's /alarms).
import type { Alarm, AlarmSource } from './listener.js'

/** The active alarms' messages joined, or null when none is active. */
export function alarmReason(alarms: readonly Pick<Alarm, 'message'>[]): string | null {
  return alarms.length === 0 ? null : alarms.map((a) => a.message).join('; ')
}

/**
 * Calls `apply` with the reason when it changes: at once if an alarm is already active, then after every
 * change (never twice in a row with the same reason). Returns the unsubscribe function (a no-op without a
 * source: embedded without a server, no alarms).
 */
export function followAlarms(alarms: AlarmSource | undefined, apply: (reason: string | null) => void): () => void {
  if (alarms === undefined) return () => {}
  let reason = alarmReason(alarms.current())
  if (reason !== null) apply(reason)
  return alarms.onChange((list) => {
    const next = alarmReason(list)
    if (next === reason) return
    reason = next
    apply(next)
  })
}

/** Open connections an alarm holds back because they publish. */
export function countBlockedPublishers(connections: Iterable<{ readonly blockedPublisher: boolean }>): number {
  let n = 0
  for (const c of connections) if (c.blockedPublisher) n++
  return n
}
