// Transaction throughput over loopback: committed transactions per second, one client, in sequence.
//   stomp : BEGIN, 100 SENDs of 1 KiB to one queue, COMMIT with a receipt (raw frames over one socket)
//   amqp  : tx.select once, then 100 basic.publish of 1 KiB + tx.commit (amqplib, its low-level rpc)
// Run: node --import tsx bench/transactions.ts [--quick] [--durability always|never]
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import amqp from 'amqplib'
import { createBroker } from '../src/index.ts'
import { startAmqpListener } from '../src/protocols/amqp/index.ts'
import { startStompListener } from '../src/protocols/stomp/index.ts'
import { silentLogger } from '../src/util/logger.ts'
import { durability, quick } from './args.ts'

const SENDS = 100
const seconds = quick ? 3 : 10
const payload = Buffer.alloc(1024, 'x')

function frame(command: string, headers: Record<string, string>, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = `${command}\n${Object.entries(headers)
    .map(([k, v]) => `${k}:${v}\n`)
    .join('')}content-length:${body.length}\n\n`
  return Buffer.concat([Buffer.from(head), body, Buffer.from([0])])
}

async function stompBench(port: number): Promise<number> {
  const socket = net.connect(port, '127.0.0.1')
  let buffered = ''
  const waiters = new Map<string, () => void>()
  let connected: () => void = () => {}
  socket.on('data', (d) => {
    buffered += d.toString('latin1')
    let end = buffered.indexOf('\0')
    while (end >= 0) {
      const f = buffered.slice(0, end)
      buffered = buffered.slice(end + 1).replace(/^\n+/, '')
      if (f.startsWith('CONNECTED')) connected()
      else if (f.startsWith('ERROR')) throw new Error(f)
      const id = /receipt-id:(\S+)/.exec(f)?.[1]
      if (id !== undefined) waiters.get(id)?.()
      end = buffered.indexOf('\0')
    }
  })
  await new Promise<void>((resolve) => {
    connected = resolve
    socket.write(frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' }))
  })
  const deadline = Date.now() + seconds * 1000
  let committed = 0
  while (Date.now() < deadline) {
    const tx = `tx-${committed}`
    const parts = [frame('BEGIN', { transaction: tx })]
    for (let i = 0; i < SENDS; i++)
      parts.push(frame('SEND', { destination: '/queue/bench.tx', transaction: tx }, payload))
    parts.push(frame('COMMIT', { transaction: tx, receipt: tx }))
    const done = new Promise<void>((resolve) => waiters.set(tx, resolve))
    socket.write(Buffer.concat(parts))
    await done
    waiters.delete(tx)
    committed++
  }
  socket.destroy()
  return committed / seconds
}

async function amqpBench(url: string): Promise<number> {
  const conn = await amqp.connect(url)
  const ch = await conn.createChannel()
  await ch.assertQueue('bench.amqp-tx', { durable: true })
  const rpc = (ch as unknown as { rpc(method: number, fields: object, expect: number): Promise<unknown> }).rpc.bind(ch)
  const TX_SELECT = (90 << 16) | 10
  const TX_COMMIT = (90 << 16) | 20
  await rpc(TX_SELECT, {}, TX_SELECT + 1)
  const deadline = Date.now() + seconds * 1000
  let committed = 0
  while (Date.now() < deadline) {
    for (let i = 0; i < SENDS; i++) ch.sendToQueue('bench.amqp-tx', payload, { persistent: true })
    await rpc(TX_COMMIT, {}, TX_COMMIT + 1)
    committed++
  }
  await conn.close()
  return committed / seconds
}

const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-tx-'))
const broker = await createBroker({ dataDir: dir, durability })
const stomp = await startStompListener({
  broker,
  host: '127.0.0.1',
  port: 0,
  logger: silentLogger,
  started: new Map(),
  stompLimits: {},
})
const amqpListener = await startAmqpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
try {
  console.log(`transactions bench: ${SENDS} × 1 KiB per transaction, durability ${durability}, ${seconds} s each`)
  const s = await stompBench(stomp.port)
  console.log(`stomp: ${s.toFixed(1)} transactions/s (${Math.round(s * SENDS)} messages/s)`)
  const a = await amqpBench(`amqp://guest:guest@127.0.0.1:${amqpListener.port}`)
  console.log(`amqp : ${a.toFixed(1)} transactions/s (${Math.round(a * SENDS)} messages/s)`)
} finally {
  await stomp.close()
  await amqpListener.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
}
