// Fixtures of the MQTT security tests: an in-process Wharf with users, ACL rules and the anonymous policy of
// the config contract, the MQTT listener on free ports (TCP, and TLS from the development certificates), and
// helpers that read what a real client was answered (CONNACK, SUBACK codes).
import { mkdtempSync, rmSync } from 'node:fs'
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { ConfiguredUser } from '../../../src/broker/security/security.ts'
import type { Broker } from '../../../src/index.ts'
import type { Listener } from '../../../src/protocols/common/listener.ts'
import type { ClientAuth } from '../../../src/protocols/common/tls.ts'
import { type MqttListener, startMqttListener } from '../../../src/protocols/mqtt/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { devCredentials } from '../../fixtures/tls.ts'

/** The config contract's users: alice is an administrator (rules do not apply to her), bob is not. */
export const users: ConfiguredUser[] = [
  { name: 'alice', password: 'alice-pw', tags: ['administrator'] },
  { name: 'bob', password: 'bob-pw' },
]

export interface SecureWharf {
  broker: Broker
  listener: MqttListener
  port: number
  /** The MQTTS port (0 when started without TLS). */
  tlsPort: number
}

export interface SecureOptions {
  acls?: Array<Record<string, unknown>>
  anonymous?: boolean
  /** Start the TLS port with this client-certificate mode. */
  tls?: ClientAuth
  /** An HTTPS server standing in for the HTTP listener's: MQTT attaches its WSS handler to it. */
  httpsServer?: HttpsServer
  /** A plain HTTP server standing in for the HTTP listener's: MQTT attaches its WS handler to it. */
  httpServer?: HttpServer
}

export async function startSecureWharf(t: TestContext, options: SecureOptions = {}): Promise<SecureWharf> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-sec-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const broker = await createTestBroker({ dataDir, durability: 'never', security: { users, acls: options.acls ?? [] } })
  if (options.anonymous !== undefined) broker.security.configure({ anonymous: options.anonymous })
  const started = new Map<string, Listener>()
  if (options.httpsServer !== undefined || options.httpServer !== undefined) {
    const { httpServer, httpsServer } = options
    started.set('http', { name: 'http', port: 0, urls: [], httpServer, httpsServer, close: async () => {} })
  }
  const listener = await startMqttListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    started,
    mqttLimits: { sysIntervalMs: 0 },
    ...(options.tls === undefined ? {} : { tls: { port: 0, credentials: await devCredentials(options.tls) } }),
  })
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  return { broker, listener, port: listener.port, tlsPort: listener.tlsPort ?? 0 }
}

/** Connects (no reconnect); the test ends the client. Rejects with the client's error (its `code`) if refused. */
export async function connectTo(t: TestContext, url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options })
  t.after(() => client.end(true))
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
  return client
}

/** The CONNACK code a refused connection got (3.1.1 return code or v5 reason code). */
export async function refusalCode(t: TestContext, url: string, options: IClientOptions): Promise<number> {
  try {
    await connectTo(t, url, options)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'number') return code
    throw error
  }
  throw new Error('the connection was accepted')
}

/** The SUBACK codes, one per filter, whether granted or refused. */
export function subackCodes(client: MqttClient, filters: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos }, (error, _granted, packet) => {
      const granted = (packet as { granted?: number[] } | undefined)?.granted
      if (granted !== undefined) resolve(granted)
      else reject(error ?? new Error('no SUBACK'))
    })
  })
}

/** The reason code a QoS 1/2 publish was acknowledged with (0 when accepted). */
export async function publishCode(client: MqttClient, topic: string, payload: string, qos: 1 | 2): Promise<number> {
  try {
    const packet = await client.publishAsync(topic, payload, { qos })
    const code = (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0
    return code === 0x10 ? 0 : code
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'number') return code
    throw error
  }
}
