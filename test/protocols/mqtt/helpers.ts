// Shared fixtures of the MQTT tests: an in-process Wharf with the MQTT listener on a free port, and
// small promise helpers around mqtt.js.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { type Broker, createBroker } from '../../../src/index.ts'
import type { MqttLimits } from '../../../src/protocols/mqtt/hub.ts'
import { type MqttListener, startMqttListener } from '../../../src/protocols/mqtt/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'

export interface Wharf {
  broker: Broker
  listener: MqttListener
  port: number
  dir: string
  url: string
  stop(): Promise<void>
}

export async function startWharf(t: TestContext, limits: Partial<MqttLimits> = {}, dir?: string): Promise<Wharf> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'wharf-mqtt-'))
  if (dir === undefined) t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const broker = await createBroker({ dataDir, durability: 'never' })
  const listener = await startMqttListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    mqttLimits: { sysIntervalMs: 0, ...limits },
  })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await listener.close()
    await broker.close()
  }
  t.after(stop)
  return { broker, listener, port: listener.port, dir: dataDir, url: `mqtt://127.0.0.1:${listener.port}`, stop }
}

export async function connect(t: TestContext, w: { port: number }, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: w.port,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  })
  t.after(() => client.end(true))
  return client
}

/** Collects messages; next(n) resolves with the first n (or rejects after a timeout). */
export function collect(client: MqttClient): {
  messages: Array<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }>
  next(n: number, timeoutMs?: number): Promise<Array<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }>>
} {
  const messages: Array<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }> = []
  const waiters: Array<() => void> = []
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, packet })
    for (const w of waiters.splice(0)) w()
  })
  return {
    messages,
    next(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`timed out with ${messages.length}/${n} messages: ${messages.map((m) => m.topic).join(',')}`),
            ),
          timeoutMs,
        )
        const check = () => {
          if (messages.length >= n) {
            clearTimeout(timer)
            resolve(messages.slice(0, n))
          } else waiters.push(check)
        }
        check()
      })
    },
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
