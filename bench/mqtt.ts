// MQTT benchmark with mqtt.js against an in-process Wharf: fan-out 1 → N subscribers (1 KiB, QoS 0 and 1)
// and the RSS of many idle connected clients (connected from a child process; the broker's RSS alone).
// Usage: node --import tsx bench/mqtt.ts [--messages 5000] [--subscribers 10] [--idle 10000] [--idle-only]
//        node --import tsx bench/mqtt.ts --port 1883 --broker-pid <pid of wharf start> [--idle 10000]
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt, { type MqttClient } from 'mqtt'
import { createBroker } from '../src/index.ts'
import { startMqttListener } from '../src/protocols/mqtt/index.ts'
import { silentLogger } from '../src/util/logger.ts'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    subscribers: { type: 'string', default: '10' },
    idle: { type: 'string', default: '10000' },
    'idle-only': { type: 'boolean', default: false },
    /** Measure idle clients against an already running broker on this port (with --broker-pid). */
    port: { type: 'string' },
    'broker-pid': { type: 'string' },
  },
})
const messages = Number(values.messages)
const subscribers = Number(values.subscribers)
const idle = Number(values.idle)

/**
 * Idle clients live in a child process (raw CONNECT/CONNACK over net, no client library state), so the RSS
 * measured is the broker's alone. Each process needs one descriptor per connection: `ulimit -n` must exceed
 * the client count in both (the child inherits the parent's limit).
 */
const idleChild = `
import net from 'node:net'
const [port, count] = process.argv.slice(1).map(Number)
function connectPacket(id) {
  const cid = Buffer.from(id)
  const body = Buffer.concat([Buffer.from([0, 4, 77, 81, 84, 84, 4, 2, 2, 88]), Buffer.from([cid.length >> 8, cid.length & 255]), cid])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}
const sockets = []
let failed = 0
async function one(i) {
  await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.on('error', () => { failed++; resolve() })
    s.once('data', (d) => { if (d[0] !== 0x20 || d[3] !== 0) failed++; resolve() })
    s.on('connect', () => s.write(connectPacket('idle-' + process.pid + '-' + i)))
    sockets.push(s)
  })
}
for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, k) => one(i + k)))
process.stdout.write(JSON.stringify({ connected: count - failed, failed }) + '\\n')
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
`

if (values.port !== undefined) {
  // Against a running broker (e.g. `wharf start`): only the idle-clients figure, its RSS from /proc.
  await idleClients(Number(values.port), Number(values['broker-pid']), idle)
  process.exit(0)
}

const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-mqtt-'))
const broker = await createBroker({ dataDir: dir, durability: 'interval' })
const listener = await startMqttListener({
  broker,
  host: '127.0.0.1',
  port: 0,
  logger: silentLogger,
  mqttLimits: { sysIntervalMs: 0, maxConnections: idle + 100 },
})
const opts = { host: '127.0.0.1', port: listener.port, reconnectPeriod: 0 }

async function fanOut(qos: 0 | 1): Promise<void> {
  const subs: MqttClient[] = []
  let received = 0
  const target = messages * subscribers
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  for (let i = 0; i < subscribers; i++) {
    const c = await mqtt.connectAsync({ ...opts, protocolVersion: 4 })
    c.on('message', () => {
      if (++received === target) done()
    })
    await c.subscribeAsync({ [`bench/q${qos}`]: { qos } })
    subs.push(c)
  }
  const pub = await mqtt.connectAsync({ ...opts, protocolVersion: 4 })
  const payload = Buffer.alloc(1024, 'x')
  const started = performance.now()
  const inflight: Promise<unknown>[] = []
  for (let i = 0; i < messages; i++) {
    inflight.push(pub.publishAsync(`bench/q${qos}`, payload, { qos }))
    if (inflight.length >= 100) await Promise.all(inflight.splice(0))
  }
  await Promise.all(inflight)
  await Promise.race([finished, new Promise((r) => setTimeout(r, 60_000))])
  const seconds = (performance.now() - started) / 1000
  console.log(
    `fan-out QoS ${qos}: 1 → ${subscribers}, ${messages} × 1 KiB: ${(messages / seconds).toFixed(0)} msg/s in, ${(received / seconds).toFixed(0)} msg/s out (${received}/${target} delivered, ${seconds.toFixed(2)} s)`,
  )
  await Promise.all([pub, ...subs].map((c) => c.endAsync()))
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024
}

/** Connects `count` idle clients from a child process; resolves with the broker's RSS before and after. */
async function idleClients(port: number, brokerPid: number, count: number): Promise<void> {
  globalThis.gc?.()
  const before = rssOf(brokerPid)
  const child = spawn(process.execPath, ['--input-type=module', '-e', idleChild, String(port), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    let text = ''
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString()
      if (text.includes('\n')) resolve(text.trim())
    })
    child.on('exit', (code) => reject(new Error(`idle client process exited with ${code}`)))
  })
  const { connected, failed } = JSON.parse(line) as { connected: number; failed: number }
  await new Promise((r) => setTimeout(r, 1000)) // let the broker settle (sessions, timers)
  const after = rssOf(brokerPid)
  console.log(
    `idle: ${connected} clients connected (${failed} failed), broker RSS ${(after / 1024 / 1024).toFixed(0)} MiB ` +
      `(before ${(before / 1024 / 1024).toFixed(0)} MiB, +${((after - before) / Math.max(1, connected) / 1024).toFixed(1)} KiB per client; limit 1024 MiB)`,
  )
  child.stdin.end()
  await new Promise((r) => child.once('exit', r))
}

try {
  if (!values['idle-only']) {
    await fanOut(0)
    await fanOut(1)
  }
  await idleClients(listener.port, process.pid, idle)
} finally {
  await listener.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
}
