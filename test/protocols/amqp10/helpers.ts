// Shared fixtures of the AMQP 1.0 tests: an in-process Wharf with the AMQP 1.0 listener on a free port, and
// rhea connections to it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import rhea, { type Connection, type ConnectionOptions } from 'rhea'
import type { TransactionLimits } from '../../../src/broker/transactions/limits.ts'
import type { Broker } from '../../../src/index.ts'
import type { Amqp10Limits } from '../../../src/protocols/amqp10/context.ts'
import { type Amqp10Listener, startAmqp10Listener } from '../../../src/protocols/amqp10/index.ts'
import type { ClientAuth } from '../../../src/protocols/common/tls.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { devCredentials } from '../../fixtures/tls.ts'
import { users } from '../mqtt/security-helpers.ts'

export interface Wharf {
  broker: Broker
  listener: Amqp10Listener
  port: number
  stop(): Promise<void>
}

export async function startWharf(
  t: TestContext,
  options: {
    anonymous?: boolean
    acls?: Array<Record<string, unknown>>
    dir?: string
    amqp10Limits?: Partial<Amqp10Limits>
    transactionLimits?: Partial<TransactionLimits>
    autoCreateQueues?: boolean
    /** AMQPS on a port of its own (the listener's tlsPort), with this client-certificate mode. */
    tls?: ClientAuth
  } = {},
): Promise<Wharf> {
  const dataDir = options.dir ?? mkdtempSync(join(tmpdir(), 'wharf-amqp10-'))
  const broker = await createTestBroker({
    dataDir,
    durability: 'always',
    security: { users, acls: options.acls ?? [] },
    ...(options.transactionLimits === undefined ? {} : { transactionLimits: options.transactionLimits }),
  })
  if (options.anonymous !== undefined) broker.security.configure({ anonymous: options.anonymous })
  const listener = await startAmqp10Listener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    started: new Map(),
    ...(options.amqp10Limits === undefined ? {} : { amqp10Limits: options.amqp10Limits }),
    ...(options.autoCreateQueues === undefined ? {} : { autoCreateQueues: options.autoCreateQueues }),
    ...(options.tls === undefined ? {} : { tls: { port: 0, credentials: await devCredentials(options.tls) } }),
  })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await listener.close()
    await broker.close()
  }
  // The broker stops before its directory goes (after-hooks run in the order they were added).
  t.after(async () => {
    await stop()
    if (options.dir === undefined) rmSync(dataDir, { recursive: true, force: true })
  })
  return { broker, listener, port: listener.port, stop }
}

/** A rhea connection (alice by default), closed after the test. */
export async function connect(
  t: TestContext,
  wharf: Wharf,
  options: Partial<ConnectionOptions> = {},
): Promise<Connection> {
  const container = rhea.create_container()
  const connection = container.connect({
    host: '127.0.0.1',
    port: wharf.port,
    username: 'alice',
    password: 'alice-pw',
    reconnect: false,
    ...options,
  } as ConnectionOptions)
  t.after(() => {
    if (connection.is_open()) connection.close()
  })
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve())
    connection.once('connection_error', (ctx) => reject(ctx.connection.error ?? new Error('connection error')))
    connection.once('disconnected', (ctx) => reject(ctx.error ?? new Error('disconnected')))
  })
  return connection
}
