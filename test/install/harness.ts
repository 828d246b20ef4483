// Helpers for tests that run Wharf the way an operator does (an installed package, `npm start`, `npx`): readiness
// over HTTP, the process tree below a launcher (npm, npx, sh), and what must be true once it has stopped.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'

export const root = new URL('../..', import.meta.url).pathname

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Every process below pid (Linux /proc), children first. */
export function descendants(pid: number): number[] {
  let children: number[] = []
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
  return children.flatMap((child) => [child, ...descendants(child)])
}

/** Resolves once GET /readyz answers 200; rejects when the launcher exits first or the time is up. */
export async function waitReady(launcher: ChildProcess, httpPort: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (launcher.exitCode !== null || launcher.signalCode !== null) {
      throw new Error(`exited before ready (${launcher.exitCode ?? launcher.signalCode}):\n${output()}`)
    }
    try {
      const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`)
      if (response.status === 200) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`not ready within 60 s:\n${output()}`)
}

export async function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

/** Runs a command to completion; rejects with its output on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? root,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}):\n${output}`))
    })
    child.stdin.end(options.input ?? '')
  })
}

export interface Launched {
  launcher: ChildProcess
  output: () => string
  exited: Promise<void>
}

/** Spawns a launcher (npm start, npx, the installed bin) with output collected; env adds to (undefined: removes from) this process's. */
export function launch(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Launched {
  const env = { ...process.env, ...options.env }
  for (const [name, value] of Object.entries(options.env ?? {})) if (value === undefined) delete env[name]
  const launcher = spawn(command, args, {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  launcher.stdout!.on('data', (d) => {
    output += d
  })
  launcher.stderr!.on('data', (d) => {
    output += d
  })
  const exited = new Promise<void>((resolve) => launcher.once('close', () => resolve()))
  return { launcher, output: () => output, exited }
}

/** SIGKILL to the launcher and everything below it (cleanup after a failed test). */
export function killTree(launched: Launched): void {
  const pids = [launched.launcher.pid!, ...descendants(launched.launcher.pid!)]
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
}

/** The command lines of the processes below pid. */
export function commandLines(pid: number): string[] {
  return descendants(pid).map((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ')
    } catch {
      return ''
    }
  })
}

/**
 * SIGTERM to the launcher only (as `docker stop` or systemd send it to the main process), then: the launcher
 * exits, no process below it survives, the port is closed and the data directory's lock is released (the
 * broker closed its storage rather than being killed).
 */
export async function stopWithSigterm(launched: Launched, httpPort: number, dataDir: string): Promise<void> {
  const below = descendants(launched.launcher.pid!)
  launched.launcher.kill('SIGTERM')
  const timeout = setTimeout(() => {
    for (const pid of [launched.launcher.pid!, ...below]) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  }, 30_000)
  await launched.exited
  clearTimeout(timeout)
  // The broker may still be finishing its close when the launcher is gone; give it a moment, never forever.
  for (let i = 0; i < 50 && below.some(isAlive); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  const survivors = below.filter(isAlive)
  for (const pid of survivors) process.kill(pid, 'SIGKILL')
  assert.deepEqual(survivors, [], `processes left behind by SIGTERM:\n${launched.output()}`)
  assert.ok(await portRefuses(httpPort), 'the HTTP port is closed')
  assert.ok(!existsSync(join(dataDir, 'wharf.lock')), `the data directory was not closed:\n${launched.output()}`)
}
