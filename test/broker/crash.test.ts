// SIGKILL crash loop with queue producers and consumers in a child process. Definitions:
// - acknowledged by the producer: sendToQueue() resolved (the append was fsynced);
// - acked by a consumer: ack() resolved (the ack was fsynced to the cursor store).
// Checked: no producer-acknowledged message is ever lost (it was delivered to a consumer in some cycle —
// then it may be gone because its ack became durable just before the kill, before the child could print
// "A" — or it is still in the queue at the end), and no consumer-acked message is delivered again later.
// WHARF_LONG=1 runs 200 cycles instead of 15.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { createBroker } from '../../src/index.ts'
import { tempDir } from './helpers.ts'

const cycles = process.env.WHARF_LONG === '1' ? 200 : 15
const child = new URL('./fixtures/queue-child.ts', import.meta.url).pathname

interface CycleLog {
  published: Set<string>
  delivered: string[]
  acked: Set<string>
}

function runCycle(dir: string, firstId: number): Promise<CycleLog> {
  const log: CycleLog = { published: new Set(), delivered: [], acked: new Set() }
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(firstId)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let buffered = ''
    let timer: NodeJS.Timeout | undefined
    proc.stdout.on('data', (data: Buffer) => {
      buffered += data.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        if (line === 'ready') {
          timer = setTimeout(() => proc.kill('SIGKILL'), 50 + Math.random() * 300)
          continue
        }
        const [kind, id] = line.split(' ') as [string, string]
        if (kind === 'P') log.published.add(id)
        else if (kind === 'D') log.delivered.push(id)
        else if (kind === 'A') log.acked.add(id)
      }
    })
    proc.on('error', reject)
    proc.on('exit', (_code, signal) => {
      clearTimeout(timer)
      if (signal === 'SIGKILL') resolve(log)
      else reject(new Error(`child exited with ${signal ?? _code} before the kill`))
    })
  })
}

test(`queue crash loop: ${cycles} SIGKILL cycles, no acknowledged message lost, no durable ack redelivered`, {
  timeout: cycles * 15_000,
}, async (t) => {
  const dir = tempDir(t, 'wharf-qcrash-')
  const published = new Set<string>()
  const acked = new Set<string>()
  const delivered = new Set<string>()
  let nextId = 0
  let redeliveredAfterAck = 0
  for (let cycle = 0; cycle < cycles; cycle++) {
    const log = await runCycle(dir, nextId)
    nextId += 1_000_000
    for (const id of log.delivered) if (acked.has(id)) redeliveredAfterAck++
    for (const id of log.published) published.add(id)
    for (const id of log.acked) acked.add(id)
    for (const id of log.delivered) delivered.add(id)
  }
  assert.equal(redeliveredAfterAck, 0, 'a message whose ack was durable was delivered again')
  assert.ok(published.size > cycles, `producers were acknowledged ${published.size} times`)
  assert.ok(acked.size > 0, 'consumers acked messages')

  const broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  const remaining = new Set<string>()
  for (;;) {
    const batch = await broker.get('crash', { owner: 'verifier', max: 1000, waitMs: 200 })
    if (batch.length === 0) break
    for (const d of batch) {
      const id = d.message.value!.toString()
      assert.ok(!acked.has(id), `durably acked message ${id} is still in the queue`)
      remaining.add(id)
    }
  }
  const lost = [...published].filter((id) => !delivered.has(id) && !remaining.has(id))
  assert.deepEqual(lost, [], 'producer-acknowledged messages missing')
})
