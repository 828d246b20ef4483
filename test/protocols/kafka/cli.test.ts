// `wharf start` serves Kafka on --kafka-port; acknowledged records survive SIGKILL and a restart.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { run } from './harness.ts'

const cli = new URL('../../fixtures/wharf-cli.ts', import.meta.url).pathname

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function start(dataDir: string, kafkaPort: number): { proc: ChildProcess; ready: Promise<void> } {
  const args = [
    '--import',
    'tsx',
    cli,
    'start',
    '--data-dir',
    dataDir,
    '--kafka-port',
    String(kafkaPort),
    '--http-port',
    '0',
    '--amqp-port',
    '0',
    '--mqtt-port',
    '0',
  ]
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
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
  return { proc, ready }
}

test('wharf start serves Kafka on --kafka-port; acknowledged records survive SIGKILL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-kafka-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  const first = start(join(dir, 'data'), port)
  t.after(() => first.proc.kill('SIGKILL'))
  await first.ready
  const bootstrap = `127.0.0.1:${port}`
  await run('kcat', ['-b', bootstrap, '-P', '-t', 'durable', '-X', 'acks=all'], { input: 'one\ntwo\nthree\n' })
  const killed = new Promise((resolve) => first.proc.once('exit', resolve))
  first.proc.kill('SIGKILL')
  await killed

  const second = start(join(dir, 'data'), port)
  t.after(() => second.proc.kill('SIGKILL'))
  await second.ready
  const back = await run('kcat', ['-b', bootstrap, '-C', '-t', 'durable', '-o', 'beginning', '-e', '-f', '%s\n'])
  assert.deepEqual(back.stdout.trim().split('\n'), ['one', 'two', 'three'])
})
