// MetadataStore over a KvLog: the catalog (JSON documents by kind and name) lives in memory and every
// put/delete is one log entry. Values are stored as the JSON they serialize to and handed out deep-frozen,
// so what readers see is exactly what was persisted (mutating a returned value throws instead of silently
// diverging from disk). As in the cursor store, memory is updated synchronously and a failed write leaves
// the outcome indeterminate; puts and deletes are idempotent, so retrying is safe.
//
// Entries: PUT kind, name, json | DELETE kind, name (strings length-prefixed UTF-8). Snapshots are PUTs.
import { WharfError } from '../../util/errors.js'
import type { MetadataStore } from '../api.js'
import type { KvStoreOptions } from './cursors/cursor-store.js'
import { KvReader, KvWriter } from './kvlog/codec.js'
import { KvLog, type KvState } from './kvlog/kvlog.js'

enum Op {
  Put = 1,
  Delete = 2,
}

export interface Doc {
  json: string
  value: unknown
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** A stored document: its JSON text and the deep-frozen value readers get. */
export function toDoc(json: string): Doc {
  return { json, value: deepFreeze(JSON.parse(json)) }
}

/** The in-memory catalog and its entry codec (the KvState the log replays into). */
export class MetadataTable implements KvState {
  readonly kinds = new Map<string, Map<string, Doc>>()

  put(kind: string, name: string, doc: Doc): boolean {
    let docs = this.kinds.get(kind)
    if (docs === undefined) {
      docs = new Map()
      this.kinds.set(kind, docs)
    }
    if (docs.get(name)?.json === doc.json) return false
    docs.set(name, doc)
    return true
  }

  delete(kind: string, name: string): boolean {
    const docs = this.kinds.get(kind)
    if (docs === undefined || !docs.delete(name)) return false
    if (docs.size === 0) this.kinds.delete(kind)
    return true
  }

  apply(payload: Buffer): void {
    const reader = new KvReader(payload)
    const op = reader.u8()
    const kind = reader.string()
    const name = reader.string()
    if (op === Op.Put) {
      const json = reader.string()
      try {
        this.put(kind, name, toDoc(json))
      } catch {
        throw new WharfError('STORE_CORRUPT', `metadata ${kind}/${name}: unparsable JSON`)
      }
    } else if (op === Op.Delete) {
      this.delete(kind, name)
    } else {
      throw new WharfError('STORE_CORRUPT', `unknown metadata entry type ${op}`)
    }
    reader.end()
  }

  snapshot(): Buffer[] {
    const out: Buffer[] = []
    for (const [kind, docs] of this.kinds) {
      for (const [name, doc] of docs) out.push(encodePut(kind, name, doc.json))
    }
    return out
  }
}

function encodePut(kind: string, name: string, json: string): Buffer {
  return new KvWriter(16 + kind.length + name.length + json.length * 3)
    .u8(Op.Put)
    .string(kind)
    .string(name)
    .string(json)
    .finish()
}

class LocalMetadataStore implements MetadataStore {
  constructor(
    private readonly table: MetadataTable,
    private readonly log: KvLog,
  ) {}

  private check(): void {
    if (this.log.closed) throw new WharfError('LOG_CLOSED', 'metadata store is closed')
  }

  get<T = unknown>(kind: string, name: string): T | undefined {
    this.check()
    return this.table.kinds.get(kind)?.get(name)?.value as T | undefined
  }

  list<T = unknown>(kind: string): Array<[string, T]> {
    this.check()
    const docs = this.table.kinds.get(kind)
    if (docs === undefined) return []
    const out: Array<[string, T]> = []
    for (const [name, doc] of docs) out.push([name, doc.value as T])
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  async put(kind: string, name: string, value: unknown): Promise<void> {
    this.check()
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch (error) {
      throw new WharfError('INVALID_ARGUMENT', `metadata ${kind}/${name}: ${(error as Error).message}`)
    }
    if (json === undefined) throw new WharfError('INVALID_ARGUMENT', `metadata ${kind}/${name}: not JSON-serializable`)
    const entry = encodePut(kind, name, json)
    this.log.checkEntry(entry)
    if (!this.table.put(kind, name, toDoc(json))) return this.log.barrier()
    return this.log.append(entry)
  }

  /** One process owns a local store: read, then write (the broker's catalog lock serializes its callers). */
  async nextId(counter: string): Promise<number> {
    const next = this.get<number>('counter', counter) ?? 1
    await this.put('counter', counter, next + 1)
    return next
  }

  async delete(kind: string, name: string): Promise<void> {
    this.check()
    const entry = new KvWriter(8 + kind.length + name.length).u8(Op.Delete).string(kind).string(name).finish()
    this.log.checkEntry(entry)
    if (!this.table.delete(kind, name)) return this.log.barrier()
    return this.log.append(entry)
  }

  flush(): Promise<void> {
    return this.log.flush()
  }

  close(): Promise<void> {
    return this.log.close()
  }
}

/** Opens (creating if needed) the metadata store kept in dir (e.g. `<dataDir>/meta`). */
export async function openMetadataStore(dir: string, options: KvStoreOptions = {}): Promise<MetadataStore> {
  const table = new MetadataTable()
  const log = await KvLog.open(dir, table, options)
  return new LocalMetadataStore(table, log)
}
