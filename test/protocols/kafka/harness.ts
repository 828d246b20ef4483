// Starts an in-process broker with the Kafka listener on a free port, for the real-client tests.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { Broker } from '../../../src/broker/broker.ts'
import type { SecurityBootstrap } from '../../../src/broker/config.ts'
import type { SecurityPolicy } from '../../../src/broker/security/security.ts'
import type { CreateBrokerOptions } from '../../../src/index.ts'
import type { AlarmSource } from '../../../src/protocols/common/listener.ts'
import type { ClientAuth } from '../../../src/protocols/common/tls.ts'
import { type KafkaListener, type KafkaOptions, startKafkaListener } from '../../../src/protocols/kafka/index.ts'
import { createLogger, silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { devCredentials } from '../../fixtures/tls.ts'

export interface Harness {
  broker: Broker
  listener: KafkaListener
  port: number
  bootstrap: string
  /** With `tls` set: the TLS port and its bootstrap address (the certificate is valid for 127.0.0.1). */
  tlsPort: number
  tlsBootstrap: string
  dir: string
  /** Registers client cleanup that runs before the broker stops (clients disconnecting from a closed broker
   *  keep retrying on timers and hold the test process open). */
  defer(cleanup: () => Promise<unknown> | unknown): void
}

/** Users, rules and policy of the broker, TLS (with its client-certificate mode) and the listen host. */
export interface HarnessSetup extends SecurityBootstrap, Partial<SecurityPolicy> {
  tls?: ClientAuth
  host?: string
  /** The server's resource alarms (tests pass a monitor they force). */
  alarms?: AlarmSource
  /** How the broker measures quota rates (tests use a short window). */
  quotaWindow?: CreateBrokerOptions['quotaWindow']
  /** Producer-transaction settings (tests use a short transactional id expiry). */
  producerTransactions?: CreateBrokerOptions['producerTransactions']
}

export async function startHarness(
  t: TestContext,
  kafka: Partial<KafkaOptions> = {},
  setup: HarnessSetup = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-kafka-'))
  const broker = await createTestBroker({
    dataDir: dir,
    durability: 'never',
    security: { users: setup.users ?? [], acls: setup.acls ?? [] },
    ...(setup.quotaWindow !== undefined ? { quotaWindow: setup.quotaWindow } : {}),
    ...(setup.producerTransactions !== undefined ? { producerTransactions: setup.producerTransactions } : {}),
  })
  if (setup.anonymous !== undefined) broker.security.configure({ anonymous: setup.anonymous })
  if (setup.defaultPermission !== undefined) broker.security.configure({ defaultPermission: setup.defaultPermission })
  const listener = await startKafkaListener({
    broker,
    host: setup.host ?? '127.0.0.1',
    port: 0,
    logger: process.env.WHARF_TEST_LOG ? createLogger({ level: process.env.WHARF_TEST_LOG }) : silentLogger,
    kafka,
    ...(setup.alarms !== undefined ? { alarms: setup.alarms } : {}),
    ...(setup.tls !== undefined ? { tls: { port: 0, credentials: await devCredentials(setup.tls) } } : {}),
  })
  const cleanups: Array<() => Promise<unknown> | unknown> = []
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {})
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    broker,
    listener,
    port: listener.port,
    bootstrap: `127.0.0.1:${listener.port}`,
    tlsPort: listener.tlsPort ?? -1,
    tlsBootstrap: `127.0.0.1:${listener.tlsPort ?? -1}`,
    dir,
    defer: (cleanup) => cleanups.push(cleanup),
  }
}

/** Runs a program (kcat, /usr/bin/python3) to completion; rejects on a non-zero exit or timeout. */
export function run(
  command: string,
  args: string[],
  options: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} timed out\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 30_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve({ stdout, stderr })
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\nstdout: ${stdout}\nstderr: ${stderr}`))
    })
    child.stdin.end(options.input ?? '')
  })
}

export const silentKafkaLogs = () => () => () => {}
