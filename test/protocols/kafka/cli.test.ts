// `wharf start` serves Kafka on --kafka-port; acknowledged records survive SIGKILL and a restart.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, spawnWharf } from '../../fixtures/wharf-process.ts'
import { run } from './harness.ts'

test('wharf start serves Kafka on --kafka-port; acknowledged records survive SIGKILL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-kafka-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  const first = spawnWharf(['--data-dir', join(dir, 'data'), '--kafka-port', String(port)])
  t.after(() => first.proc.kill('SIGKILL'))
  await first.ready
  const bootstrap = `127.0.0.1:${port}`
  await run('kcat', ['-b', bootstrap, '-P', '-t', 'durable', '-X', 'acks=all'], { input: 'one\ntwo\nthree\n' })
  const killed = new Promise((resolve) => first.proc.once('exit', resolve))
  first.proc.kill('SIGKILL')
  await killed

  const second = spawnWharf(['--data-dir', join(dir, 'data'), '--kafka-port', String(port)])
  t.after(() => second.proc.kill('SIGKILL'))
  await second.ready
  const back = await run('kcat', ['-b', bootstrap, '-C', '-t', 'durable', '-o', 'beginning', '-e', '-f', '%s\n'])
  assert.deepEqual(back.stdout.trim().split('\n'), ['one', 'two', 'three'])
})
