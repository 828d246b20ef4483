// Shared setup for AMQP listener tests: an in-process broker in a temp dir with the listener on port 0.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import amqp from 'amqplib'
import type { Broker } from '../../../src/broker/broker.ts'
import type { SecurityBootstrap } from '../../../src/broker/config.ts'
import { type AmqpListener, type AmqpListenerOptions, startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import type { ClientAuth } from '../../../src/protocols/common/tls.ts'
import { createLogger, silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { devCredentials } from '../../fixtures/tls.ts'
import { freePort, spawnWharf, type WharfProcess } from '../../fixtures/wharf-process.ts'

export interface Wharf {
  broker: Broker
  listener: AmqpListener
  url: string
  port: number
  dir: string
}

/** What a test configures beyond the listener: users and ACL rules, and AMQPS (on port 0) when `tls` is set. */
export interface WharfSetup {
  security?: SecurityBootstrap
  tls?: { clientAuth: ClientAuth }
  /** The listen address; 127.0.0.1 unless set. */
  host?: string
}

export async function startWharf(
  t: TestContext,
  options: AmqpListenerOptions = {},
  setup: WharfSetup = {},
): Promise<Wharf> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-'))
  const broker = await createTestBroker({
    dataDir: join(dir, 'data'),
    durability: 'never',
    ...(setup.security ? { security: setup.security } : {}),
  })
  const listener = await startAmqpListener(
    {
      broker,
      host: setup.host ?? '127.0.0.1',
      port: 0,
      logger: process.env.WHARF_TEST_LOG ? createLogger({ level: process.env.WHARF_TEST_LOG }) : silentLogger,
      ...(setup.tls ? { tls: { port: 0, credentials: await devCredentials(setup.tls.clientAuth) } } : {}),
    },
    options,
  )
  t.after(async () => {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { broker, listener, port: listener.port, url: `amqp://guest:guest@127.0.0.1:${listener.port}`, dir }
}

/** `wharf start` processes on one data dir and AMQP port, for restart tests; each is SIGKILLed at the end. */
export async function wharfRestarts(
  t: TestContext,
  prefix: string,
): Promise<{ start(): Promise<{ wharf: WharfProcess; conn: amqp.ChannelModel }> }> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const data = join(dir, 'data')
  const port = await freePort()
  return {
    /** Starts a process and connects to it once it is ready. */
    async start() {
      const wharf = spawnWharf(['--data-dir', data, '--amqp-port', String(port)])
      t.after(() => wharf.proc.kill('SIGKILL'))
      await wharf.ready
      const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`)
      conn.on('error', () => {})
      return { wharf, conn }
    },
  }
}

/** An amqplib connection closed after the test. */
export async function connect(t: TestContext, url: string, socketOptions?: object): Promise<amqp.ChannelModel> {
  const conn = await amqp.connect(url, socketOptions)
  conn.on('error', () => {})
  t.after(() => conn.close().catch(() => {}))
  return conn
}

export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Collects n messages from a consumer. */
export async function collect(
  ch: amqp.Channel,
  queue: string,
  n: number,
  options: amqp.Options.Consume = {},
  timeoutMs = 10_000,
): Promise<amqp.ConsumeMessage[]> {
  const got: amqp.ConsumeMessage[] = []
  const done = deferred<void>()
  const timer = setTimeout(() => done.reject(new Error(`timeout: got ${got.length}/${n} from ${queue}`)), timeoutMs)
  const { consumerTag } = await ch.consume(
    queue,
    (m) => {
      if (m === null) return
      got.push(m)
      if (got.length === n) done.resolve()
    },
    options,
  )
  try {
    if (n > 0) await done.promise
  } finally {
    clearTimeout(timer)
  }
  await ch.cancel(consumerTag)
  return got
}
