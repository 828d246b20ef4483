// What the PostgreSQL benchmarks share: a stand-in for the test context the PostgreSQL fixture expects (its
// after-hooks collected and run by the benchmark at the end), and CPU time read from /proc.
import { readdirSync, readFileSync } from 'node:fs'
import type { TestContext } from 'node:test'

/** Cleanups registered through benchContext.after, to run (newest first) when the benchmark ends. */
export const cleanups: Array<() => unknown> = []

export const benchContext = {
  skip: (reason: string) => {
    throw new Error(reason)
  },
  after: (fn: () => unknown) => cleanups.push(fn),
} as unknown as TestContext

/** CPU seconds (user + system) of pid, and with children=true of every process whose parent is pid too. */
export function cpuSeconds(pid: number, children = false): number {
  const tick = 100 // USER_HZ on Linux
  let total = 0
  for (const entry of children ? readdirSync('/proc') : [String(pid)]) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(entry) !== pid && Number(fields[1]) !== pid) continue
      total += (Number(fields[11]) + Number(fields[12])) / tick
    } catch {}
  }
  return total
}
