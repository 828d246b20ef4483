import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { type Broker, createBroker } from '../../src/index.ts'

export function tempDir(t: TestContext, prefix = 'wharf-broker-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function openBroker(t: TestContext, dir = tempDir(t)): Promise<Broker> {
  const broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  return broker
}

export function text(d: Delivery): string {
  return d.message.value?.toString() ?? ''
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Waits until `test` holds (polled every 5 ms), failing after timeoutMs. */
export async function until(test: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}
