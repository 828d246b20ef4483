// `wharf start` as a child process: opens the data dir, reports ready, stops cleanly on SIGTERM/SIGINT,
// and refuses a data dir another broker holds.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const cli = new URL('./fixtures/wharf-cli.ts', import.meta.url).pathname
/** Listeners off: this file tests the process lifecycle; protocol tests use free ports. */
const noListeners = ['--kafka-port', '0', '--amqp-port', '0', '--mqtt-port', '0', '--http-port', '0']

function start(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { proc: ChildProcess; output: () => string; ready: Promise<void>; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', cli, 'start', ...noListeners, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      output += d
      if (output.includes('wharf ready')) resolve()
    })
    proc.stderr!.on('data', (d) => {
      output += d
    })
    proc.on('exit', () => reject(new Error(`exited before ready: ${output}`)))
  })
  ready.catch(() => {})
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return { proc, output: () => output, ready, exit }
}

test('wharf start opens the data dir, logs ready and stops cleanly on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const data = join(dir, 'data')
  const broker = start(['--data-dir', data])
  t.after(() => broker.proc.kill('SIGKILL'))
  await broker.ready
  assert.ok(existsSync(join(data, 'wharf.lock')), 'data dir locked while running')
  assert.match(broker.output(), new RegExp(`"dataDir":"${data}"`))

  const second = start([], { WHARF_DATA_DIR: data })
  assert.equal(await second.exit, 1, 'a second broker on the same data dir refuses to start')
  assert.match(second.output(), /in use by process/)

  broker.proc.kill('SIGTERM')
  assert.equal(await broker.exit, 0)
  assert.match(broker.output(), /wharf stopped/)
  assert.ok(!existsSync(join(data, 'wharf.lock')), 'lock released')
})

test('bad flags exit non-zero with a clear message', async () => {
  const bad = start(['--kafka-port', 'notaport'])
  assert.notEqual(await bad.exit, 0)
  assert.match(bad.output(), /port number/)
})
