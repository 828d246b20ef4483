// The settings of the STOMP redelivery policy and of the scheduler, from flags and the environment to a
// running `wharf start` (child process) that stomp.py talks to: the individual dead-letter strategy with one
// redelivery, and a lowered delay bound refusing a longer AMQ_SCHEDULED_DELAY.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/server/config.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { freePort, spawnWharf } from '../fixtures/wharf-process.ts'

test('the redelivery and scheduler settings are read from the environment and checked', () => {
  const config = loadConfig({
    env: {
      WHARF_STOMP_DEAD_LETTER_STRATEGY: 'individual',
      WHARF_STOMP_REDELIVERY_MAX: '0',
      WHARF_STOMP_REDELIVERY_DELAY_MS: '250',
      WHARF_SCHEDULED_JOBS_MAX: '5',
      WHARF_DELIVERY_DELAY_MAX_MS: '60000',
    },
    cwd: '/srv/w',
  })
  assert.equal(config.stompDeadLetterStrategy, 'individual')
  assert.equal(config.stompRedeliveryMax, 0)
  assert.equal(config.stompRedeliveryDelayMs, 250)
  assert.equal(config.stompDeadLetterQueue, 'ActiveMQ.DLQ')
  assert.equal(config.scheduledJobsMax, 5)
  assert.equal(config.deliveryDelayMaxMs, 60_000)
  assert.throws(
    () => loadConfig({ env: { WHARF_STOMP_DEAD_LETTER_STRATEGY: 'sometimes' }, cwd: '/srv/w' }),
    (e: unknown) => isWharfError(e, 'INVALID_CONFIG') && /shared, individual, none/.test((e as Error).message),
  )
  assert.throws(
    () => loadConfig({ env: { WHARF_STOMP_REDELIVERY_MAX: '-1' }, cwd: '/srv/w' }),
    (e: unknown) => isWharfError(e, 'INVALID_CONFIG'),
  )
})

const script = `
import os, stomp, time
conn = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
got = []; errors = []
class L(stomp.ConnectionListener):
    def on_message(self, frame): got.append(frame)
    def on_error(self, frame): errors.append(frame.headers.get('message'))
conn.set_listener('l', L())
conn.connect(wait=True)
conn.subscribe('/queue/cfg', id='1', ack='client-individual')
conn.send('/queue/cfg', 'poison', receipt='r1')
for _ in range(2):
    for _ in range(200):
        if got: break
        time.sleep(0.02)
    conn.nack(got.pop(0).headers['ack'])
time.sleep(0.3)
print('LEFT', len(got))
conn.subscribe('/queue/DLQ.cfg', id='2', ack='auto')
for _ in range(200):
    if got: break
    time.sleep(0.02)
print('DEAD', got[0].headers['destination'], got[0].body)
conn.send('/queue/cfg', 'too late', headers={'AMQ_SCHEDULED_DELAY': '5000'})
for _ in range(200):
    if errors: break
    time.sleep(0.02)
print('ERROR', errors[0])
`

test('wharf start with --stomp-dead-letter-strategy individual and --delivery-delay-max-ms: stomp.py sees both', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-jms-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  const wharf = spawnWharf(['--data-dir', dir, '--stomp-port', String(port), '--delivery-delay-max-ms', '1000'], {
    WHARF_STOMP_DEAD_LETTER_STRATEGY: 'individual',
    WHARF_STOMP_REDELIVERY_MAX: '1',
  })
  t.after(async () => {
    wharf.proc.kill('SIGTERM')
    const timer = setTimeout(() => wharf.proc.kill('SIGKILL'), 10_000)
    await wharf.exit
    clearTimeout(timer)
  })
  await wharf.ready
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      '/usr/bin/python3',
      ['-c', script],
      { env: { ...process.env, PORT: String(port) }, timeout: 40_000 },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve(out)),
    ),
  )
  assert.match(stdout, /LEFT 0/, 'no third delivery after one redelivery')
  assert.match(stdout, /DEAD \/queue\/DLQ\.cfg poison/)
  assert.match(stdout, /ERROR .*delay must be an integer in \[0, 1000\]/)
})
