// How a listener that blocks publishers follows the server's resource alarms: one reason text for the active
// alarms (what a blocked client is told where its protocol can say so), current at start and after every
// change, and the count of connections an alarm holds back (the admin API's /alarms).
import type { Alarm, AlarmSource } from './listener.js'

/** The active alarms' messages joined, or null when none is active. */
export function alarmReason(alarms: readonly Pick<Alarm, 'message'>[]): string | null {
  return alarms.length === 0 ? null : alarms.map((a) => a.message).join('; ')
}

/**
 * Calls `apply` with the current reason (when there is an alarm source) and again after every change;
 * returns the unsubscribe function (a no-op without a source: embedded without a server, no alarms).
 */
export function followAlarms(alarms: AlarmSource | undefined, apply: (reason: string | null) => void): () => void {
  if (alarms === undefined) return () => {}
  apply(alarmReason(alarms.current()))
  return alarms.onChange((list) => apply(alarmReason(list)))
}

/** Open connections an alarm holds back because they publish. */
export function countBlockedPublishers(connections: Iterable<{ readonly blockedPublisher: boolean }>): number {
  let n = 0
  for (const c of connections) if (c.blockedPublisher) n++
  return n
}
