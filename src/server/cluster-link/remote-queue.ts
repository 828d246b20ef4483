// A queue another member serves, as this broker's clients use it (RemoteQueue, src/broker/queue/remote.ts):
// each operation is a request over the link to that member; each local consumer is a subscription there,
// re-made after a lost link or a refusal until the consumer goes or the queue is served elsewhere (the
// placement then hands the consumers to the next server).
import type { BrowseOptions, BrowsePage } from '../../broker/queue/browse.js'
import type { QueueConsumer } from '../../broker/queue/queue.js'
import { QUEUE_MOVED, type RemoteQueue, type RemoteSettle } from '../../broker/queue/remote.js'
import type { Delivery, GetOptions, QueueStats } from '../../broker/queue/types.js'
import { isWharfError, WharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import type { Peer, PeerEvent } from './peer.js'
import { type LinkTerms, linkSelector } from './serve.js'

/** How long a subscription waits before it asks again after a refusal or a lost link. */
const RESUBSCRIBE_MS = 250

/** How long a broker taking a queue over waits for the previous server to hand it over. */
const HANDOVER_MS = 5000

let subscriptionSeq = 0

interface Subscription {
  readonly id: number
  readonly consumer: QueueConsumer
  active: boolean
  timer: NodeJS.Timeout | undefined
}

export class LinkedQueue implements RemoteQueue {
  readonly node: number
  readonly #queue: string
  readonly #peer: Peer
  readonly #logger: Logger
  readonly #subscriptions = new Map<QueueConsumer, Subscription>()
  readonly #offDown: () => void
  /** Rejecters of the gets waiting for an answer. */
  readonly #waiting = new Set<(error: Error) => void>()

  constructor(queue: string, peer: Peer, logger: Logger) {
    this.node = peer.node
    this.#queue = queue
    this.#peer = peer
    this.#logger = logger
    this.#offDown = peer.onDown(() => {
      for (const sub of this.#subscriptions.values()) this.#retry(sub)
    })
  }

  /** No consumer left: the placement may drop this object. */
  get idle(): boolean {
    return this.#subscriptions.size === 0
  }

  dispose(): void {
    for (const consumer of [...this.#subscriptions.keys()]) this.unsubscribe(consumer)
    this.#offDown()
    // A get still waiting there (a long poll, or a server that stopped answering) is asked again where the
    // queue went (Queue.get follows a NOT_OWNER) instead of waiting out its timeout.
    const moved = new WharfError('NOT_OWNER', `queue '${this.#queue}' is served by another broker now`)
    for (const abandon of this.#waiting) abandon(moved)
    this.#waiting.clear()
  }

  subscribe(consumer: QueueConsumer): void {
    if (this.#subscriptions.has(consumer)) return
    const sub: Subscription = { id: ++subscriptionSeq, consumer, active: true, timer: undefined }
    this.#subscriptions.set(consumer, sub)
    this.#peer.subscriptions.set(sub.id, (event) => this.#event(sub, event))
    this.#attach(sub)
  }

  unsubscribe(consumer: QueueConsumer): void {
    const sub = this.#subscriptions.get(consumer)
    if (sub === undefined) return
    sub.active = false
    clearTimeout(sub.timer)
    this.#subscriptions.delete(consumer)
    this.#peer.subscriptions.delete(sub.id)
    this.#peer.tell('cancel', { sub: sub.id })
  }

  #attach(sub: Subscription): void {
    const o = sub.consumer.options
    const terms: LinkTerms = {
      owner: o.owner,
      tag: sub.consumer.tag,
      // The shared credit of a channel (AMQP global QoS, the MQTT inflight window) bounds each remote consumer.
      prefetch: o.prefetch || sub.consumer.creditGroup?.limit || 0,
      ...(o.noAck === undefined ? {} : { noAck: o.noAck }),
      ...(o.exclusive === undefined ? {} : { exclusive: o.exclusive }),
      ...(o.singleActive === undefined ? {} : { singleActive: o.singleActive }),
      ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }),
      ...(o.priority === undefined ? {} : { priority: o.priority }),
      ...(o.selector === undefined ? {} : { selector: linkSelector(o.selector) }),
    }
    this.#peer.request('consume', { queue: this.#queue, sub: sub.id, terms }).catch((error: unknown) => {
      if (!sub.active) return
      if (isWharfError(error) && error.code === 'RESOURCE_LOCKED') {
        this.unsubscribe(sub.consumer)
        sub.consumer.onCancel?.(error.message)
        return
      }
      this.#logger.debug(
        { queue: this.#queue, node: this.node, err: (error as Error).message },
        'remote consume refused',
      )
      this.#retry(sub)
    })
  }

  #retry(sub: Subscription): void {
    if (!sub.active || sub.timer !== undefined) return
    sub.timer = setTimeout(() => {
      sub.timer = undefined
      if (sub.active) this.#attach(sub)
    }, RESUBSCRIBE_MS)
    sub.timer.unref?.()
  }

  #event(sub: Subscription, event: PeerEvent): void {
    if (!sub.active || sub.consumer.cancelled) return
    if (event.t === 'deliver') {
      sub.consumer.onDeliver(event.deliveries as Delivery[])
      return
    }
    // Served elsewhere now: the placement moves the consumer when it learns where; until then, ask again.
    if (event.reason === QUEUE_MOVED) this.#retry(sub)
  }

  async get(options: GetOptions): Promise<Delivery[]> {
    const { signal: _signal, selector, ...rest } = options
    const wait = options.waitMs ?? 0
    const answer = this.#peer.request(
      'get',
      {
        queue: this.#queue,
        options: { ...rest, ...(selector === undefined ? {} : { selector: linkSelector(selector) }) },
      },
      wait + 30_000,
    )
    let abandon: ((error: Error) => void) | undefined
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject
      this.#waiting.add(reject)
    })
    answer.catch(() => {})
    try {
      return (await Promise.race([answer, abandoned])) as Delivery[]
    } finally {
      this.#waiting.delete(abandon!)
    }
  }

  settleLater(how: RemoteSettle, partition: number, offset: number, leaseId: number | undefined, leaseMs?: number) {
    this.#peer.tell('settle', {
      queue: this.#queue,
      how,
      partition,
      offset,
      leaseId,
      ...(leaseMs === undefined ? {} : { leaseMs }),
    })
  }

  async settle(how: RemoteSettle, partition: number, offset: number, leaseId: number | undefined, leaseMs?: number) {
    const body = { queue: this.#queue, how, partition, offset, leaseId, ...(leaseMs === undefined ? {} : { leaseMs }) }
    return (await this.#peer.request('settle', body)) === true
  }

  releaseOwner(owner: string): void {
    this.#peer.tell('releaseOwner', { queue: this.#queue, owner })
  }

  async handover(): Promise<void> {
    await this.#peer
      .request('handover', { queue: this.#queue }, HANDOVER_MS)
      .catch((error: unknown) =>
        this.#logger.info(
          { queue: this.#queue, node: this.node, err: (error as Error).message },
          'queue handover without the previous server',
        ),
      )
  }

  async stats(): Promise<QueueStats> {
    return (await this.#peer.request('stats', { queue: this.#queue })) as QueueStats
  }

  async purge(): Promise<number> {
    return Number(await this.#peer.request('purge', { queue: this.#queue }))
  }

  async browse(options: BrowseOptions): Promise<BrowsePage> {
    return (await this.#peer.request('browse', { queue: this.#queue, options })) as BrowsePage
  }
}
