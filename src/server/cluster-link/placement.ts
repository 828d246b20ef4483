// Where each durable queue is served: by the owner of its stream's first partition log (the controller
// assigns logs; appends to the other partitions are forwarded like any append). Every member keeps every
// queue's object; on the owner it is served from its own state, elsewhere its operations go to the owner
// (LinkedQueue). A change of owner moves each queue (Queue.serveFrom), found from the cluster's change
// announcements and, for anything missed, a sweep every second.
import type { Broker } from '../../broker/broker.js'
import type { QueueConfig } from '../../broker/config.js'
import type { Queue } from '../../broker/queue/queue.js'
import { servedHereOnly } from '../../broker/queue/remote.js'
import { Stream } from '../../broker/stream/stream.js'
import type { ClusterView } from '../../storage/api.js'
import type { Logger } from '../../util/logger.js'
import type { Peer } from './peer.js'
import { LinkedQueue } from './remote-queue.js'

const SWEEP_MS = 1000

export class QueuePlacement {
  readonly #broker: Broker
  readonly #cluster: ClusterView
  readonly #peer: (node: number) => Peer
  readonly #logger: Logger
  /** The LinkedQueue each remotely served queue uses now (one per queue, so a queue's server is one object). */
  readonly #remotes = new Map<string, LinkedQueue>()
  #timer: NodeJS.Timeout | undefined
  #off: (() => void) | undefined

  constructor(broker: Broker, cluster: ClusterView, peer: (node: number) => Peer, logger: Logger) {
    this.#broker = broker
    this.#cluster = cluster
    this.#peer = peer
    this.#logger = logger
  }

  /**
   * The server of a queue: null when it is this broker. While the owner is unknown (a broker died and the
   * controller has not given its logs away yet) a queue keeps its current server.
   */
  lookup(name: string, _config: QueueConfig, streamId: number): LinkedQueue | null {
    const owner = this.#cluster.ownerOf(Stream.logName(streamId, 0))
    const current = this.#remotes.get(name) ?? null
    if (owner === undefined) return current
    if (owner.owner === this.#cluster.nodeId) return null
    if (current?.node === owner.owner) return current
    current?.dispose()
    const linked = new LinkedQueue(name, this.#peer(owner.owner), this.#logger)
    this.#remotes.set(name, linked)
    return linked
  }

  start(): void {
    this.#off = this.#cluster.onChange(() => this.sweep())
    this.#timer = setInterval(() => this.sweep(), SWEEP_MS)
    this.#timer.unref()
    this.sweep()
  }

  stop(): void {
    this.#off?.()
    clearInterval(this.#timer)
    for (const linked of this.#remotes.values()) linked.dispose()
    this.#remotes.clear()
  }

  /** Moves every queue whose server changed; forgets the links of queues gone or served here. */
  sweep(): void {
    const seen = new Set<string>()
    for (const queue of this.#broker.listQueues()) {
      if (servedHereOnly(queue.config) || queue.deleted) continue
      seen.add(queue.name)
      this.#place(queue)
    }
    for (const [name, linked] of this.#remotes) {
      const queue = this.#broker.getQueue(name)
      if (seen.has(name) && queue?.servedBy === linked.node) continue
      linked.dispose()
      this.#remotes.delete(name)
    }
  }

  #place(queue: Queue): void {
    const stream = this.#broker.getStream(queue.streamName)
    if (stream === undefined) return
    const server = this.lookup(queue.name, queue.config, stream.id)
    if ((server?.node ?? undefined) === queue.servedBy) return
    this.#logger.info(
      { queue: queue.name, from: queue.servedBy ?? this.#cluster.nodeId, to: server?.node ?? this.#cluster.nodeId },
      'queue served elsewhere now',
    )
    queue
      .serveFrom(server)
      .catch((error: unknown) =>
        this.#logger.warn({ queue: queue.name, err: (error as Error).message }, 'moving a queue failed'),
      )
  }
}
