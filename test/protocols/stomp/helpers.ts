// Shared fixtures of the STOMP tests: an in-process Wharf with the STOMP listener on a free port (and, when
// asked, an HTTP server for STOMP over WebSocket and TLS from the development certificates), stompjs clients
// over TCP (@stomp/tcp-wrapper) or WebSocket (ws), and stomp.py scripts run under /usr/bin/python3.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { Client, type IFrame, type IMessage, type StompConfig } from '@stomp/stompjs'
import { TCPWrapper } from '@stomp/tcp-wrapper'
import WebSocket from 'ws'
import type { Broker } from '../../../src/index.ts'
import type { AlarmSource, Listener } from '../../../src/protocols/common/listener.ts'
import type { ClientAuth } from '../../../src/protocols/common/tls.ts'
import { type StompLimits, type StompListener, startStompListener } from '../../../src/protocols/stomp/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { type Collector, collector as sharedCollector } from '../../fixtures/collector.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { devCredentials } from '../../fixtures/tls.ts'
import { users } from '../mqtt/security-helpers.ts'

/** The config contract's users, as the MQTT security tests have them: alice administers, bob does not. */
export { users }

export interface Wharf {
  broker: Broker
  listener: StompListener
  port: number
  tlsPort: number
  /** ws://…/stomp when started with webSocket. */
  wsUrl: string
  dir: string
  stop(): Promise<void>
}

export interface WharfOptions {
  limits?: Partial<StompLimits>
  dir?: string
  anonymous?: boolean
  acls?: Array<Record<string, unknown>>
  webSocket?: boolean
  tls?: ClientAuth
  durability?: 'always' | 'never'
  alarms?: AlarmSource
}

export async function startWharf(t: TestContext, options: WharfOptions = {}): Promise<Wharf> {
  const dataDir = options.dir ?? mkdtempSync(join(tmpdir(), 'wharf-stomp-'))
  // After-hooks run in the order they were added: the broker stops (its last writes land) before its dir goes.
  let stopFirst: (() => Promise<void>) | undefined
  if (options.dir === undefined)
    t.after(async () => {
      await stopFirst?.()
      rmSync(dataDir, { recursive: true, force: true })
    })
  const broker = await createTestBroker({
    dataDir,
    durability: options.durability ?? 'never',
    security: { users, acls: options.acls ?? [] },
  })
  if (options.anonymous !== undefined) broker.security.configure({ anonymous: options.anonymous })
  const started = new Map<string, Listener>()
  let httpServer: HttpServer | undefined
  if (options.webSocket === true) {
    httpServer = createHttpServer((_req, res) => res.writeHead(404).end())
    await new Promise<void>((resolve) => httpServer!.listen(0, '127.0.0.1', resolve))
    started.set('http', { name: 'http', port: 0, urls: [], httpServer, close: async () => {} })
  }
  const listener = await startStompListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    started,
    stompLimits: options.limits ?? {},
    ...(options.alarms !== undefined ? { alarms: options.alarms } : {}),
    ...(options.tls !== undefined ? { tls: { port: 0, credentials: await devCredentials(options.tls) } } : {}),
  })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await listener.close()
    await broker.close()
    if (httpServer !== undefined) {
      httpServer.closeAllConnections()
      await new Promise((resolve) => httpServer!.close(resolve))
    }
  }
  stopFirst = stop
  t.after(stop)
  const httpPort = httpServer === undefined ? 0 : (httpServer.address() as AddressInfo).port
  return {
    broker,
    listener,
    port: listener.port,
    tlsPort: listener.tlsPort ?? 0,
    wsUrl: `ws://127.0.0.1:${httpPort}/stomp`,
    dir: dataDir,
    stop,
  }
}

/** A connected stompjs client over TCP (or WebSocket with `ws`); rejects on ERROR or a closed socket. */
export async function stompjs(
  t: TestContext,
  w: { port: number; wsUrl?: string },
  options: { ws?: boolean; login?: string; passcode?: string; config?: StompConfig } = {},
): Promise<Client> {
  const client = new Client({
    webSocketFactory: () =>
      options.ws === true
        ? new WebSocket(w.wsUrl!, ['v12.stomp', 'v11.stomp', 'v10.stomp'])
        : new TCPWrapper('127.0.0.1', w.port),
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    connectHeaders: options.login === undefined ? {} : { login: options.login, passcode: options.passcode ?? '' },
    ...options.config,
  })
  const connected = new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve()
    client.onStompError = (frame: IFrame) => reject(new Error(`ERROR ${frame.headers.message}`))
    client.onWebSocketClose = () => reject(new Error('socket closed'))
  })
  client.activate()
  t.after(() => client.deactivate({ force: true }))
  await connected
  return client
}

/** Collects MESSAGE frames; next(n) resolves with the first n (or rejects after a timeout). */
export function collector(): Collector<IMessage> & { onMessage: (m: IMessage) => void } {
  const received = sharedCollector<IMessage>()
  return Object.assign(received, { onMessage: (m: IMessage) => received.push(m) })
}

/** Sends with a receipt and waits for it. */
export function sendWithReceipt(
  client: Client,
  destination: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const receipt = `r-${Math.random().toString(36).slice(2)}`
  const done = new Promise<void>((resolve) => client.watchForReceipt(receipt, () => resolve()))
  client.publish({ destination, body, headers: { ...headers, receipt } })
  return done
}

/** Runs a stomp.py script (Debian python3-stomp, only under /usr/bin/python3) with PORT in its environment. */
export function stompPy(
  script: string,
  env: Record<string, string>,
  timeoutMs = 40_000,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/python3',
      ['-c', script],
      { env: { ...process.env, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`stomp.py failed: ${error.message}\n${stdout}\n${stderr}`))
        else resolve({ stdout, stderr })
      },
    )
  })
}
