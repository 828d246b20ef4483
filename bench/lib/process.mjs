// What the side-by-side benchmark drivers share: waiting for a listener, starting a built Wharf the way
// `wharf start` runs it, and the median of a run's repetitions.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'

export async function waitForPort(port, seconds) {
  const until = Date.now() + seconds * 1000
  while (Date.now() < until) {
    const up = await new Promise((res) => {
      const s = connect(port, '127.0.0.1', () => res(s.end() && true)).on('error', () => res(false))
    })
    if (up) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`nothing listens on ${port} after ${seconds}s`)
}

/** `bin/wharf.js start ARGS` in the built checkout `dir`, with the node flags of its shebang line. */
export function spawnBuiltWharf(dir, args, stdio) {
  const flags = readFileSync(join(dir, 'bin/wharf.js'), 'utf8')
    .split('\n')[0]
    .split(' ')
    .filter((f) => f.startsWith('--'))
  return spawn(process.execPath, [...flags, 'bin/wharf.js', 'start', ...args], { cwd: dir, stdio })
}

/** The median of the numbers among `xs`, or null when there are none. */
export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number').sort((p, q) => p - q)
  if (s.length === 0) return null
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
