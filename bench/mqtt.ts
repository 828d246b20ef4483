// MQTT benchmark with mqtt.js against an in-process Wharf: fan-out 1 → N subscribers (1 KiB, QoS 0 and 1)
// and the RSS of many idle connected clients.
// Usage: node --import tsx bench/mqtt.ts [--messages 5000] [--subscribers 10] [--idle 10000]
import { mkdtempSync, rmSync } from 'node:fs'
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
  },
})
const messages = Number(values.messages)
const subscribers = Number(values.subscribers)
const idle = Number(values.idle)

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

async function idleClients(): Promise<void> {
  const before = process.memoryUsage().rss
  const clients: MqttClient[] = []
  for (let i = 0; i < idle; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, idle - i) }, () =>
        mqtt.connectAsync({ ...opts, protocolVersion: 4, keepalive: 600 }),
      ),
    )
    clients.push(...batch)
  }
  const after = process.memoryUsage().rss
  // Client and server share this process: the figure bounds the server side from above.
  console.log(
    `idle: ${clients.length} clients connected, RSS +${((after - before) / 1024 / 1024).toFixed(1)} MiB (${((after - before) / clients.length / 1024).toFixed(1)} KiB per client, mqtt.js clients included)`,
  )
  for (const c of clients) c.end(true)
}

try {
  await fanOut(0)
  await fanOut(1)
  await idleClients()
} finally {
  await listener.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
}
