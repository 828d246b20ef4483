import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { Broker, type CreateBrokerOptions, createBroker } from '../../src/index.ts'
import type { StorageEngine } from '../../src/storage/api.ts'
import { openStorage } from '../../src/storage/local/index.ts'

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

const storages = new WeakMap<Broker, StorageEngine>()

/**
 * createBroker for white-box tests: the same composition, but the test keeps the storage engine so it can
 * check what reached the cursor and metadata stores (the broker does not expose its storage).
 */
export async function createInspectableBroker(options: CreateBrokerOptions): Promise<Broker> {
  const storage = await openStorage(options.dataDir, { maxOpenFiles: options.maxOpenFiles, warn: options.warn })
  const broker = await Broker.open({
    storage,
    defaultDurability: options.durability,
    warn: options.warn,
    initialRebalanceDelayMs: options.initialRebalanceDelayMs,
  })
  storages.set(broker, storage)
  return broker
}

/** The storage of a broker opened by createInspectableBroker. */
export function storageOf(broker: Broker): StorageEngine {
  const storage = storages.get(broker)
  if (storage === undefined) throw new Error('open the broker with createInspectableBroker to inspect its storage')
  return storage
}
