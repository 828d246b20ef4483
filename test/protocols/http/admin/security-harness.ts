// An in-process HTTP listener over a broker with users of every tag and anonymous access off, for the admin
// API security tests; `call` is fetch with optional Basic or bearer credentials. Log lines are kept so tests
// can check that no secret reaches them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import pino from 'pino'
import type { Broker } from '../../../../src/index.ts'
import type { ListenerContext } from '../../../../src/protocols/common/listener.ts'
import { type HttpListener, startHttpListener } from '../../../../src/protocols/http/listener.ts'
import { createTestBroker } from '../../../fixtures/test-storage.ts'

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk untyped JSON replies
export type Json = Record<string, any>

export const USERS = [
  { name: 'alice', password: 'alice-pw', tags: ['administrator'] },
  { name: 'mia', password: 'mia-pw', tags: ['management'] },
  { name: 'molly', password: 'molly-pw', tags: ['monitoring'] },
  { name: 'bob', password: 'bob-pw' },
]

export interface SecureHarness {
  broker: Broker
  listener: HttpListener
  url: string
  logs: string[]
}

export interface HarnessOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string
  anonymous?: boolean
  publicMetrics?: boolean
  tls?: ListenerContext['tls']
}

export async function startSecureHarness(t: TestContext, options: HarnessOptions = {}): Promise<SecureHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-http-sec-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const broker = await createTestBroker({ dataDir, durability: 'never', security: { users: USERS } })
  broker.security.configure({ anonymous: options.anonymous ?? false })
  const logs: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line) })
  const listener = await startHttpListener({
    broker,
    host: options.host ?? '127.0.0.1',
    port: 0,
    logger,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.publicMetrics === undefined ? {} : { config: { publicMetrics: options.publicMetrics } }),
  })
  t.after(async () => {
    await listener.close().catch(() => {})
    await broker.close()
  })
  const host = options.host ?? '127.0.0.1'
  return { broker, listener, url: `http://${host.includes(':') ? `[${host}]` : host}:${listener.port}`, logs }
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

/** Credentials of one of USERS by name. */
export function as(name: string): string {
  const user = USERS.find((u) => u.name === name)
  if (user === undefined) throw new Error(`no test user ${name}`)
  return basic(user.name, user.password)
}

export interface Reply {
  status: number
  json: Json
  text: string
  headers: Headers
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.auth !== undefined) headers.authorization = options.auth
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await res.text()
  let json: Json = {}
  try {
    json = text === '' ? {} : (JSON.parse(text) as Json)
  } catch {
    json = {}
  }
  return { status: res.status, json, text, headers: res.headers }
}
