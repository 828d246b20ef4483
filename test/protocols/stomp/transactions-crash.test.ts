// Crash test of STOMP transactions: a `wharf start` child (durability always) is SIGKILLed at a random moment
// while one connection commits transactions of K SENDs spread over three queues, each also ACKing a message
// of a work queue, with some transactions aborted. After the last kill a broker opens the data directory:
// - every transaction whose COMMIT receipt arrived is there whole: each of its K messages exactly once;
// - every transaction whose COMMIT was sent without a receipt is there whole or not at all;
// - nothing of an aborted or never-committed transaction is ever delivered;
// - a work message ACKed in a committed (receipted) transaction is never delivered again.
// 4 kills by default, 30 with WHARF_LONG=1.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { tempDir } from '../../broker/helpers.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { freePort, spawnWharf } from '../../fixtures/wharf-process.ts'

const cycles = process.env.WHARF_LONG === '1' ? 30 : 4
const K = 6
const QUEUES = ['tx-a', 'tx-b', 'tx-c']

interface Frame {
  command: string
  headers: Map<string, string>
  body: string
}

function encode(command: string, headers: Record<string, string>, body = ''): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}:${v}\n`)
  return `${command}\n${lines.join('')}\n${body}\0`
}

interface Outcome {
  committed: Set<string>
  unconfirmed: Set<string>
  aborted: Set<string>
  /** Work messages delivered in this cycle, and those ACKed in a receipted transaction. */
  workDelivered: string[]
  workAcked: Set<string>
}

/** One life of the broker: a client commits transactions until the broker is killed under it. */
async function cycle(dataDir: string, cycleNo: number, outcome: Outcome): Promise<void> {
  const port = await freePort()
  const wharf = spawnWharf(['--data-dir', dataDir, '--durability', 'always', '--stomp-port', String(port)])
  await wharf.ready
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let buffered = ''
  const receipts = new Map<string, () => void>()
  const work: Array<{ ack: string; id: string }> = []
  let connected!: () => void
  const ready = new Promise<void>((resolve) => {
    connected = resolve
  })
  socket.on('data', (d) => {
    buffered += d.toString('utf8')
    for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
      const raw = buffered.slice(0, end).replace(/^\n+/, '')
      buffered = buffered.slice(end + 1)
      const f = parse(raw)
      if (f.command === 'CONNECTED') connected()
      else if (f.command === 'RECEIPT') receipts.get(f.headers.get('receipt-id') ?? '')?.()
      else if (f.command === 'MESSAGE') {
        outcome.workDelivered.push(f.body)
        work.push({ ack: f.headers.get('ack') ?? '', id: f.body })
      }
    }
  })
  const killed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.write(encode('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' }))
  await ready
  // Work for this cycle's ACKs, each SEND receipted (so durable) before the transactions start.
  const fed = new Promise<void>((resolve) => receipts.set(`feed-${cycleNo}`, resolve))
  let feed = ''
  for (let i = 0; i < 200; i++) feed += encode('SEND', { destination: '/queue/work' }, `w-${cycleNo}-${i}`)
  socket.write(
    `${feed}${encode('SEND', { destination: '/queue/work', receipt: `feed-${cycleNo}` }, `w-${cycleNo}-marker`)}`,
  )
  await fed
  socket.write(encode('SUBSCRIBE', { id: 'work', destination: '/queue/work', ack: 'client-individual' }))
  setTimeout(() => wharf.proc.kill('SIGKILL'), 300 + Math.random() * 1500)

  const loop = async (lane: number) => {
    for (let n = 0; ; n++) {
      const id = `c${cycleNo}-l${lane}-t${n}`
      const abort = n % 5 === 4
      let frames = encode('BEGIN', { transaction: id })
      for (let i = 0; i < K; i++)
        frames += encode('SEND', { destination: `/queue/${QUEUES[i % QUEUES.length]}`, transaction: id }, `${id}:${i}`)
      const acked = work.shift()
      if (acked !== undefined) frames += encode('ACK', { id: acked.ack, transaction: id })
      if (abort) {
        outcome.aborted.add(id)
        socket.write(frames + encode('ABORT', { transaction: id }))
        continue
      }
      const receipt = new Promise<boolean>((resolve) => {
        receipts.set(id, () => resolve(true))
        killed.then(() => resolve(false))
      })
      outcome.unconfirmed.add(id)
      if (!socket.write(frames + encode('COMMIT', { transaction: id, receipt: id }))) {
        await Promise.race([new Promise((r) => socket.once('drain', r)), killed])
      }
      if (!(await receipt)) return
      outcome.unconfirmed.delete(id)
      outcome.committed.add(id)
      if (acked !== undefined) outcome.workAcked.add(acked.id)
    }
  }
  await Promise.all([loop(0), loop(1)])
  await wharf.exit
}

function parse(raw: string): Frame {
  const split = raw.indexOf('\n\n')
  const [command, ...lines] = raw.slice(0, split).split('\n')
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (!headers.has(line.slice(0, colon))) headers.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return { command: command ?? '', headers, body: raw.slice(split + 2) }
}

test(`STOMP transactions survive ${cycles} SIGKILLs: committed whole and once, aborted never, acks kept`, {
  timeout: cycles * 60_000,
}, async (t) => {
  const dataDir = tempDir(t, 'wharf-txcrash-')
  const outcome: Outcome = {
    committed: new Set(),
    unconfirmed: new Set(),
    aborted: new Set(),
    workDelivered: [],
    workAcked: new Set(),
  }
  const deliveredAfterAck: string[] = []
  for (let c = 0; c < cycles; c++) {
    const seenBefore = new Set(outcome.workAcked)
    const from = outcome.workDelivered.length
    await cycle(dataDir, c, outcome)
    for (const id of outcome.workDelivered.slice(from)) if (seenBefore.has(id)) deliveredAfterAck.push(id)
  }
  assert.ok(outcome.committed.size >= cycles, `${outcome.committed.size} transactions were committed`)

  const broker = await createTestBroker({ dataDir })
  t.after(() => broker.close())
  const byTx = new Map<string, string[]>()
  for (const queue of QUEUES) {
    for (;;) {
      const batch = await broker.get(queue, { owner: 'verifier', max: 1000, waitMs: 100 })
      if (batch.length === 0) break
      for (const d of batch) {
        const body = String(d.message.value)
        const id = body.slice(0, body.lastIndexOf(':'))
        byTx.set(id, [...(byTx.get(id) ?? []), body])
      }
    }
  }
  for (const id of outcome.committed) {
    const bodies = (byTx.get(id) ?? []).sort()
    assert.deepEqual(bodies, Array.from({ length: K }, (_, i) => `${id}:${i}`).sort(), `committed ${id} whole, once`)
  }
  const whole = [...outcome.unconfirmed].filter((id) => byTx.has(id)).length
  t.diagnostic(
    `committed ${outcome.committed.size}, unconfirmed ${outcome.unconfirmed.size} (${whole} of them stored), ` +
      `aborted ${outcome.aborted.size}, work acked ${outcome.workAcked.size}`,
  )
  for (const id of outcome.unconfirmed) {
    const n = byTx.get(id)?.length ?? 0
    assert.ok(n === 0 || n === K, `unconfirmed ${id}: all or nothing, found ${n} of ${K}`)
    if (n === K) assert.equal(new Set(byTx.get(id)).size, K, `unconfirmed ${id} without duplicates`)
  }
  for (const id of byTx.keys())
    assert.ok(outcome.committed.has(id) || outcome.unconfirmed.has(id), `${id} was never committed, yet delivered`)
  for (const id of outcome.aborted) assert.equal(byTx.has(id), false, `aborted ${id} delivered`)
  assert.deepEqual(deliveredAfterAck, [], 'work ACKed in a committed transaction was delivered again')
  for (;;) {
    const batch = await broker.get('work', { owner: 'verifier', max: 1000, waitMs: 100 })
    if (batch.length === 0) break
    for (const d of batch)
      assert.equal(outcome.workAcked.has(String(d.message.value)), false, `acked ${d.message.value} still queued`)
  }
})
