// The memory logs of one storage engine by name: every engine keeps its transient streams this way, whatever
// it does with durable ones.
import { WharfError } from '../../../util/errors.js'
import { defaultLogConfig, type LogConfig, validateLogConfig } from '../../api.js'
import { MemoryPartitionLog } from './log.js'

export class MemoryLogs {
  readonly #logs = new Map<string, MemoryPartitionLog>()

  /** The named memory log, created with this config or reconfigured with it. */
  open(name: string, config: Partial<LogConfig>, closed: boolean): MemoryPartitionLog {
    if (closed) throw new WharfError('LOG_CLOSED', 'storage is closed')
    let log = this.#logs.get(name)
    if (log === undefined) {
      log = new MemoryPartitionLog(name, validateLogConfig({ ...defaultLogConfig, ...config }))
      this.#logs.set(name, log)
    } else log.updateConfig(config)
    return log
  }

  /** Closes and forgets the named memory log; false when there is none (the name may be a durable log's). */
  async delete(name: string): Promise<boolean> {
    const log = this.#logs.get(name)
    if (log === undefined) return false
    this.#logs.delete(name)
    await log.close()
    return true
  }

  values(): IterableIterator<MemoryPartitionLog> {
    return this.#logs.values()
  }

  async closeAll(): Promise<void> {
    for (const log of this.#logs.values()) await log.close()
    this.#logs.clear()
  }
}
