// The wharf admin verbs as child processes against a `wharf start` child, through the REST admin API.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, listenerPorts } from './fixtures/wharf-process.ts'

const cli = new URL('./fixtures/wharf-cli.ts', import.meta.url).pathname

function run(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d) => {
      stdout += d
    })
    proc.stderr.on('data', (d) => {
      stderr += d
    })
    proc.stdin.end(input ?? '')
    proc.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

async function startBroker(t: { after: (fn: () => void) => void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-admin-'))
  const port = await freePort()
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'start', '--data-dir', dir, ...listenerPorts({ http: port }), '--durability', 'never'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  t.after(() => {
    proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      output += d
      if (output.includes('wharf ready')) resolve()
    })
    proc.stderr!.on('data', (d) => {
      output += d
    })
    proc.on('exit', () => reject(new Error(`broker exited: ${output}`)))
  })
  return `http://127.0.0.1:${port}`
}

test('topics, queues, produce, consume, stats through a running broker', async (t) => {
  const url = await startBroker(t)
  let r = await run(['topics', 'create', 'events', '--partitions', '2', '--url', url])
  assert.equal(r.code, 0, r.stderr)
  r = await run(['topics', 'list', '--url', url])
  assert.match(r.stdout, /^events\tpartitions=2/m)
  r = await run(['topics', 'create', 'events', '--url', url])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /STREAM_EXISTS/)

  r = await run(['produce', 'events', '--partition', '1', '-H', 'src=cli', '--url', url], 'one\ntwo\nthree\n')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /produced 3/)
  r = await run(['consume', 'events', '--partition', '1', '--url', url])
  assert.deepEqual(r.stdout.trim().split('\n'), ['one', 'two', 'three'])
  r = await run(['consume', 'events', '--partition', '1', '--offset', '1', '--limit', '1', '--json', '--url', url])
  assert.equal(JSON.parse(r.stdout).headers.src, 'cli')

  // Follow mode prints messages produced after it started.
  const follower = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'consume', 'events', '--offset', 'latest', '--follow', '--url', url],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  t.after(() => follower.kill('SIGKILL'))
  let followed = ''
  const seen = new Promise<void>((resolve) =>
    follower.stdout.on('data', (d) => {
      followed += d
      if (followed.includes('later')) resolve()
    }),
  )
  await new Promise((resolve) => setTimeout(resolve, 1500))
  assert.equal((await run(['produce', 'events', '--partition', '0', 'later', '--url', url])).code, 0)
  await seen
  follower.kill('SIGINT')

  r = await run(['queues', 'create', 'jobs', '--lease-ms', '1000', '--url', url])
  assert.equal(r.code, 0, r.stderr)
  await run(['produce', 'jobs', '--queue', 'a', 'b', '--url', url])
  r = await run(['queues', 'list', '--url', url])
  assert.match(r.stdout, /^jobs\tready=2/m)
  r = await run(['queues', 'describe', 'jobs', '--url', url])
  assert.equal(JSON.parse(r.stdout).config.leaseMs, 1000)
  r = await run(['stats', '--url', url])
  assert.match(r.stdout, /streams=2 queues=1/)
  r = await run(['queues', 'delete', 'jobs', '--url', url])
  assert.match(r.stdout, /deleted queue jobs \(2 messages\)/)
  r = await run(['topics', 'delete', 'events', '--url', url])
  assert.equal(r.code, 0)
  r = await run(['topics', 'describe', 'events', '--url', url])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /STREAM_NOT_FOUND/)
})

test('unreachable broker and bad arguments exit non-zero with a clear message', async () => {
  const port = await freePort()
  let r = await run(['topics', 'list', '--url', `http://127.0.0.1:${port}`])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /cannot reach the broker at .*ECONNREFUSED/)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  r = await run(['topics', 'create', 'x', '--partitions', 'many'])
  assert.notEqual(r.code, 0)
  assert.match(r.stderr, /non-negative integer/)
  r = await run(['queues', 'frobnicate'])
  assert.notEqual(r.code, 0)
})
