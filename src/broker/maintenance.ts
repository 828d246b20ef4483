// The broker's shared maintenance tick: queue timers (lease expiry, delays, TTL, expiry), work-queue
// retention (log space below every queue's ack floor is freed), and every 30 s the producer-state snapshot
// and dedup-window expiry. One timer per broker, unref'd.
import type { DedupManager } from './dedup/manager.js'
import type { ProducerManager } from './idempotence/manager.js'
import type { Queue } from './queue/queue.js'
import type { Stream } from './stream/stream.js'

export interface MaintenanceHost {
  now(): number
  warn(message: string, details?: Record<string, unknown>): void
  queues(): Iterable<Queue>
  streams(): Iterable<Stream>
  readonly producers: ProducerManager
  readonly dedup: DedupManager
}

const SNAPSHOT_EVERY_MS = 30_000

export class Maintenance {
  readonly #host: MaintenanceHost
  #ticker: NodeJS.Timeout | null = null
  #lastSnapshot = 0
  #retentionRunning = false

  constructor(host: MaintenanceHost) {
    this.#host = host
  }

  start(tickMs: number): void {
    this.#ticker = setInterval(() => this.#tick(), tickMs)
    this.#ticker.unref()
  }

  stop(): void {
    if (this.#ticker) clearInterval(this.#ticker)
  }

  #tick(): void {
    const host = this.#host
    const now = host.now()
    for (const queue of host.queues()) queue.tick(now)
    this.#workQueueRetention()
    if (now - this.#lastSnapshot > SNAPSHOT_EVERY_MS) {
      this.#lastSnapshot = now
      void host.producers.saveAll(now).catch((error) => host.warn('producer snapshot failed', { error: String(error) }))
      void host.dedup.expireAll(now)
    }
  }

  #workQueueRetention(): void {
    if (this.#retentionRunning) return
    this.#retentionRunning = true
    const work: Array<Promise<unknown>> = []
    for (const stream of this.#host.streams()) {
      if (!stream.config.workQueue || stream.queues.size === 0) continue
      stream.partitions.forEach((log, partition) => {
        let floor = Number.POSITIVE_INFINITY
        for (const queue of stream.queues) floor = Math.min(floor, queue.ackFloor(partition))
        const target = Math.min(floor, log.highWatermark)
        // Only worth a call once a whole segment might be freed.
        if (target - log.logStartOffset > 0 && log.segmentCount > 1)
          work.push(log.deleteRecordsBefore(target).catch(() => {}))
      })
    }
    Promise.all(work).finally(() => {
      this.#retentionRunning = false
    })
  }
}
