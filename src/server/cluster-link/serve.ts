// The serving side of the cluster link: another member, once authenticated, asks this broker to append to
// logs it owns (as the requester saw the owner's epoch) and to work queues it serves on behalf of that
// member's clients: consume (deliveries pushed back as events), get, settle, release an owner's leases,
// purge. For a Kafka transaction another member coordinates, it admits the producer to a partition this
// broker owns and writes the marker that ends it there; it holds the offsets of a transaction it coordinates
// (TxnOffsetCommit reaches the group's coordinator) and applies them for a group it coordinates. Leases and
// consumers taken over a link belong to owners named after the peer, and are returned when the link closes,
// as a client connection's are when it closes.
import type { Socket } from 'node:net'
import type { Broker } from '../../broker/broker.js'
import type { PublishMessage } from '../../broker/message.js'
import type { PendingOffset } from '../../broker/producer-transactions/state.js'
import { type BrowseOptions, browseHere } from '../../broker/queue/browse.js'
import type { QueueConsumer } from '../../broker/queue/queue.js'
import type { ConsumeOptions, Delivery, GetOptions } from '../../broker/queue/types.js'
import { compileSelector, type Selector } from '../../broker/selector/index.js'
import type { ClusterView } from '../../storage/api.js'
import { isWharfError, WharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import { HANDSHAKE_FRAME_BYTES_MAX } from './frames.js'
import { type Challenge, isHello, newNonce, proof, sameProof } from './handshake.js'
import { LinkSocket } from './socket.js'

export interface ServeOptions {
  broker: Broker
  cluster: ClusterView
  secret: () => Promise<Buffer>
  frameBytesMax: number
  logger: Logger
  /** Re-checks where every queue is served (placement.ts). */
  placeNow(): void
  /** A peer said on which exchanges it has transient bindings (relay.ts); [] when its link closed. */
  heard(node: number, exchanges: readonly string[]): void
}

/** A consumer's terms as they cross the link (a selector as its text). */
export interface LinkTerms {
  owner: string
  tag?: string
  prefetch?: number
  noAck?: boolean
  exclusive?: boolean
  singleActive?: boolean
  leaseMs?: number | null
  priority?: number
  selector?: { text: string; convertStringExpressions: boolean }
}

export function linkSelector(selector: string | Selector | undefined): LinkTerms['selector'] {
  if (selector === undefined) return undefined
  if (typeof selector === 'string') return { text: selector, convertStringExpressions: false }
  return { text: selector.text, convertStringExpressions: selector.convertStringExpressions }
}

function selectorOf(terms: LinkTerms['selector']): Selector | undefined {
  return terms === undefined
    ? undefined
    : compileSelector(terms.text, { convertStringExpressions: terms.convertStringExpressions })
}

/** The exchanges a peer's interest names (interest, catch-up). */
function exchangesOf(request: Record<string, unknown>): string[] {
  return Array.isArray(request.exchanges) ? request.exchanges.map(String) : []
}

/** Serves one accepted link socket until it closes. */
export function serveLink(socket: Socket, options: ServeOptions): void {
  const { broker, cluster, logger } = options
  let peer: number | undefined
  let serverNonce = ''
  let clientNonce = ''
  let claimed = -1
  const subscriptions = new Map<number, { queue: string; consumer: QueueConsumer }>()
  /** Owners named over this link, by queue: their leases are returned when it closes. */
  const owners = new Map<string, Set<string>>()
  const ownerOf = (queue: string, owner: string) => {
    const name = `cluster:${peer}:${owner}`
    const set = owners.get(queue) ?? new Set()
    owners.set(queue, set)
    set.add(name)
    return name
  }
  const timer = setTimeout(() => link.close(), 10_000)
  const link = new LinkSocket(
    socket,
    HANDSHAKE_FRAME_BYTES_MAX,
    (frame) => {
      if (peer !== undefined) return void dispatch(frame as Request)
      void handshake(frame)
    },
    () => {
      clearTimeout(timer)
      if (peer !== undefined) options.heard(peer, [])
      for (const { queue, consumer } of subscriptions.values()) broker.getQueue(queue)?.cancel(consumer)
      subscriptions.clear()
      for (const [queue, set] of owners) for (const owner of set) broker.getQueue(queue)?.releaseOwner(owner)
      owners.clear()
    },
  )

  async function handshake(frame: unknown): Promise<void> {
    const secret = await options.secret()
    const f = frame as { t?: string; proof?: unknown }
    if (claimed < 0 && isHello(frame)) {
      claimed = frame.node
      clientNonce = frame.nonce
      serverNonce = newNonce()
      const challenge: Challenge = {
        t: 'challenge',
        node: cluster.nodeId,
        nonce: serverNonce,
        proof: proof(secret, 'server', clientNonce, serverNonce, cluster.nodeId),
      }
      link.send(challenge)
      return
    }
    if (
      claimed >= 0 &&
      f?.t === 'auth' &&
      sameProof(proof(secret, 'client', clientNonce, serverNonce, claimed), f.proof)
    ) {
      peer = claimed
      clearTimeout(timer)
      link.allow(options.frameBytesMax)
      link.send({ t: 'ready' })
      return
    }
    logger.warn({ remote: socket.remoteAddress }, 'cluster link: a peer failed the handshake')
    link.close()
  }

  interface Request {
    t: 'req'
    id: number
    op: string
    [field: string]: unknown
  }

  async function dispatch(request: Request): Promise<void> {
    if (request?.t !== 'req') return link.close()
    try {
      const result = await run(request)
      if (request.id !== 0) link.send({ t: 'res', id: request.id, ok: true, result })
    } catch (error) {
      const code = isWharfError(error) ? error.code : 'INVALID_ARGUMENT'
      if (request.id !== 0) link.send({ t: 'res', id: request.id, ok: false, code, message: (error as Error).message })
    }
  }

  const queueNamed = (name: unknown) => {
    const queue = typeof name === 'string' ? broker.getQueue(name) : undefined
    if (queue === undefined) throw new WharfError('SUBSCRIPTION_NOT_FOUND', `no queue '${String(name)}' here`)
    if (queue.servedBy !== undefined)
      throw new WharfError(
        'NOT_OWNER',
        `queue '${queue.name}' is served by broker ${queue.servedBy}, not ${cluster.nodeId}`,
      )
    return queue
  }

  async function run(r: Request): Promise<unknown> {
    switch (r.op) {
      case 'append':
        return cluster.appendForwarded(String(r.log), Number(r.epoch), r.batches as Buffer[])
      case 'consume': {
        const queue = queueNamed(r.queue)
        const sub = Number(r.sub)
        const terms = r.terms as LinkTerms
        const consumeOptions: ConsumeOptions = {
          ...terms,
          owner: ownerOf(queue.name, terms.owner),
          selector: selectorOf(terms.selector),
          forwarded: true,
          onDeliver: (deliveries: Delivery[]) => link.send({ t: 'deliver', sub, deliveries: deliveries.map(wire) }),
          onCancel: (reason: string) => {
            subscriptions.delete(sub)
            link.send({ t: 'cancel', sub, reason })
          },
        }
        const consumer = queue.consume(consumeOptions)
        subscriptions.set(sub, { queue: queue.name, consumer })
        return { tag: consumer.tag }
      }
      case 'cancel': {
        const found = subscriptions.get(Number(r.sub))
        subscriptions.delete(Number(r.sub))
        if (found !== undefined) broker.getQueue(found.queue)?.cancel(found.consumer)
        return true
      }
      case 'get': {
        const queue = queueNamed(r.queue)
        const o = r.options as Omit<GetOptions, 'selector'> & { selector?: LinkTerms['selector'] }
        const taken = await queue.get({ ...o, owner: ownerOf(queue.name, o.owner), selector: selectorOf(o.selector) })
        return taken.map(wire)
      }
      case 'settle': {
        const queue = queueNamed(r.queue)
        const [p, o, lease] = [Number(r.partition), Number(r.offset), r.leaseId as number | undefined]
        switch (r.how) {
          case 'ack':
            return queue.ack(p, o, lease)
          case 'settle':
            return queue.settle(p, o, lease)
          case 'nack':
          case 'requeue':
            return queue.nack(p, o, r.how === 'requeue', lease)
          case 'release':
            return queue.release(p, o, lease)
          case 'extend':
            return queue.extend(p, o, Number(r.leaseMs), lease)
        }
        throw new WharfError('INVALID_ARGUMENT', `unknown settle ${String(r.how)}`)
      }
      case 'releaseOwner': {
        const queue = queueNamed(r.queue)
        return queue.releaseOwner(ownerOf(queue.name, String(r.owner)))
      }
      case 'purge':
        return queueNamed(r.queue).purge()
      case 'stats':
        return queueNamed(r.queue).queueStats()
      case 'browse':
        return browseHere(queueNamed(r.queue), r.options as BrowseOptions)
      case 'interest':
        options.heard(peer!, exchangesOf(r))
        return true
      case 'txn-admit': {
        const txns = broker.producerTransactions.partitions
        const [id, producer, epoch] = [String(r.transactionalId), Number(r.producerId), Number(r.producerEpoch)]
        await txns.admit(id, producer, epoch, String(r.stream), Number(r.partition))
        return true
      }
      case 'txn-marker': {
        const txns = broker.producerTransactions.partitions
        const [producer, epoch, commit, now] = [
          Number(r.producerId),
          Number(r.producerEpoch),
          r.commit === true,
          Number(r.now),
        ]
        await txns.marker(String(r.stream), Number(r.partition), producer, epoch, commit, now)
        return true
      }
      case 'txn-offsets': {
        const [id, producer, epoch] = [String(r.transactionalId), Number(r.producerId), Number(r.producerEpoch)]
        return broker.producerTransactions.commitOffsets(id, producer, epoch, r.offsets as PendingOffset[])
      }
      case 'commit-offset':
        await broker.commitOffset(
          String(r.group),
          String(r.stream),
          Number(r.partition),
          Number(r.offset),
          String(r.metadata),
        )
        return true
      case 'catch-up':
        // The requester is about to confirm a catalog change to its client (its settler).
        options.heard(peer!, exchangesOf(r))
        await broker.catalogCaughtUp()
        return true
      case 'claim':
        broker.clusterLink.claimed(String(r.kind), String(r.id))
        return true
      case 'relay':
        await broker.publish(String(r.exchange), String(r.routingKey), r.message as PublishMessage, {
          ...(r.routingHeaders === undefined ? {} : { routingHeaders: r.routingHeaders as Record<string, unknown> }),
          ...(r.extraRoutingKeys === undefined ? {} : { extraRoutingKeys: r.extraRoutingKeys as string[] }),
          transientOnly: true,
        })
        return true
      case 'handover': {
        // The requester owns the queue's log now; this broker learns it from the same announcement, maybe later.
        const queue = broker.getQueue(String(r.queue))
        if (queue === undefined) return true
        const deadline = Date.now() + 3000
        while (queue.servedBy === undefined && !queue.deleted && Date.now() < deadline) {
          options.placeNow()
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        await queue.handedOff()
        return true
      }
    }
    throw new WharfError('INVALID_ARGUMENT', `unknown cluster link operation ${String(r.op)}`)
  }
}

/** A delivery as it crosses the link: its own fields only (the message's too), nothing the queue hangs on it. */
function wire(d: Delivery): Delivery {
  const m = d.message
  return {
    queue: d.queue,
    partition: d.partition,
    offset: d.offset,
    leaseId: d.leaseId,
    deliveryCount: d.deliveryCount,
    redelivered: d.redelivered,
    deadline: d.deadline,
    ...(d.groupFirst ? { groupFirst: true } : {}),
    message: {
      stream: m.stream,
      partition: m.partition,
      offset: m.offset,
      timestamp: m.timestamp,
      key: m.key,
      value: m.value,
      headers: m.headers,
    },
  }
}
