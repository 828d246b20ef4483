// Shared fixtures of the MQTT tests: an in-process Wharf with the MQTT listener on a free port, and
// small promise helpers around mqtt.js.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Broker } from '../../../src/index.ts'
import { type MqttListener, startMqttListener } from '../../../src/protocols/mqtt/index.ts'
import type { MqttLimits } from '../../../src/protocols/mqtt/session/session.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { type Collector, collector } from '../../fixtures/collector.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

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
  const broker = await createTestBroker({ dataDir, durability: 'never' })
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
  // One hook, broker first: after hooks run in the order they were added, and a directory removed under a
  // broker still flushing its catalog fails that write (ENOENT).
  t.after(async () => {
    await stop()
    if (dir === undefined) rmSync(dataDir, { recursive: true, force: true })
  })
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

export type Received = { topic: string; payload: Buffer; packet: mqtt.IPublishPacket }

/** Collects the client's messages; next(n) resolves with the first n (or rejects after a timeout). */
export function collect(client: MqttClient): Collector<Received> {
  const received = collector<Received>((m) => m.topic)
  client.on('message', (topic, payload, packet) => received.push({ topic, payload, packet }))
  return received
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A bare MQTT connection (mqtt-packet over a socket) for what a well-behaved client library will not do:
 * withhold acknowledgements, die mid-exchange, send malformed or oversized packets.
 */
export interface RawClient {
  socket: import('node:net').Socket
  send(packet: import('mqtt-packet').Packet): void
  sendBytes(bytes: Buffer): void
  next(cmd?: string, timeoutMs?: number): Promise<import('mqtt-packet').Packet>
  closed: Promise<void>
}

export async function rawClient(t: TestContext, port: number, protocolVersion = 4): Promise<RawClient> {
  const net = await import('node:net')
  const mqttPacket = (await import('mqtt-packet')).default
  const socket = net.connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const parser = mqttPacket.parser({ protocolVersion })
  const received: import('mqtt-packet').Packet[] = []
  const waiters: Array<() => void> = []
  parser.on('packet', (p) => {
    received.push(p)
    for (const w of waiters.splice(0)) w()
  })
  socket.on('data', (d) => parser.parse(d))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return {
    socket,
    send: (packet) => socket.write(mqttPacket.generate(packet, { protocolVersion })),
    sendBytes: (bytes) => socket.write(bytes),
    closed,
    next(cmd, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${cmd ?? 'packet'} within ${timeoutMs} ms`)), timeoutMs)
        const check = () => {
          const at = received.findIndex((p) => cmd === undefined || p.cmd === cmd)
          if (at >= 0) {
            clearTimeout(timer)
            resolve(received.splice(at, 1)[0]!)
          } else waiters.push(check)
        }
        check()
      })
    },
  }
}

/** A raw clean-session client, connected and subscribed to one topic; it acknowledges only what the test sends. */
export async function rawSubscriber(
  t: TestContext,
  port: number,
  options: { protocolVersion: 4 | 5; clientId: string; topic: string; qos: 0 | 1 | 2 },
): Promise<RawClient> {
  const { protocolVersion, clientId, topic, qos } = options
  const raw = await rawClient(t, port, protocolVersion)
  raw.send({ cmd: 'connect', clientId, protocolVersion, clean: true, keepalive: 0 })
  await raw.next('connack')
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
  await raw.next('suback')
  return raw
}
