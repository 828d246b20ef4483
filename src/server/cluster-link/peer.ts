// This broker's side of its links to the other members: one connection per peer node, opened when first
// needed (to the `cluster` endpoint the peer advertised in its membership row), authenticated, then carrying
// requests (answered in any order, by id) and the peer's events for subscriptions made over it.
import net from 'node:net'
import tls from 'node:tls'
import type { ClusterView } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import { HANDSHAKE_FRAME_BYTES_MAX } from './frames.js'
import { type Auth, type Hello, isChallenge, newNonce, proof, sameProof } from './handshake.js'
import { LinkSocket } from './socket.js'

export const LINK_ENDPOINT = 'cluster'

/** Bytes waiting to be written to a peer beyond which droppable messages are dropped. */
export const TELL_BUFFER_BYTES_MAX = 16 * 1024 * 1024

export interface LinkOptions {
  cluster: ClusterView
  secret: () => Promise<Buffer>
  /** Set when the links speak TLS: how to verify the peer (and present this broker's certificate). */
  /**
   * Set when the links speak TLS: how to connect (presenting this broker's certificate), and the fingerprint
   * of a certificate trusted without a CA (this broker's own). Otherwise the peer's must chain and match.
   */
  tls: { connect: tls.ConnectionOptions; pinned: string } | undefined
  frameBytesMax: number
  /** A request without an answer this long fails (the peer is gone or stuck). */
  requestTimeoutMs: number
  logger: Logger
}

/** What the peer says about a subscription made over this link: a batch of deliveries, or a cancel. */
export type PeerEvent =
  | { t: 'deliver'; sub: number; deliveries: unknown[] }
  | { t: 'cancel'; sub: number; reason: string }

interface Pending {
  resolve(result: unknown): void
  reject(error: Error): void
  op: string
  /** When it fails unanswered (ms since epoch); one sweep per peer checks, not a timer per request. */
  deadline: number
}

export class Peer {
  readonly node: number
  readonly #options: LinkOptions
  #link: LinkSocket | undefined
  #connecting: Promise<LinkSocket> | undefined
  #seq = 0
  readonly #pending = new Map<number, Pending>()
  /** Subscriptions' event handlers, by subscription id. */
  readonly subscriptions = new Map<number, (event: PeerEvent) => void>()
  /** Called when the connection is lost (subscriptions made over it are gone at the peer too). */
  readonly #downListeners = new Set<() => void>()

  constructor(node: number, options: LinkOptions) {
    this.node = node
    this.#options = options
  }

  onDown(listener: () => void): () => void {
    this.#downListeners.add(listener)
    return () => this.#downListeners.delete(listener)
  }

  /**
   * Sends a request and resolves with the peer's result; its error comes back as a WharfError of its code.
   * Sent at once on an open link (requests and tells keep the order they were made in), else after connecting.
   */
  request(op: string, body: Record<string, unknown>, timeoutMs = this.#options.requestTimeoutMs): Promise<unknown> {
    const link = this.#link
    if (link !== undefined && !link.closed) return this.#send(link, op, body, timeoutMs)
    return this.#connect().then((opened) => this.#send(opened, op, body, timeoutMs))
  }

  #send(link: LinkSocket, op: string, body: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const id = ++this.#seq
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, op, deadline: Date.now() + timeoutMs })
      this.#sweeper ??= setInterval(() => this.#expire(), 1000)
      this.#sweeper.unref()
      link.send({ t: 'req', id, op, ...body })
    })
  }

  #sweeper: NodeJS.Timeout | undefined

  /** Fails the requests whose time is up (the peer is gone or stuck). */
  #expire(): void {
    const now = Date.now()
    for (const [id, pending] of this.#pending) {
      if (pending.deadline > now) continue
      this.#pending.delete(id)
      pending.reject(
        new WharfError('LINK_DOWN', `cluster link to broker ${this.node}: no answer to ${pending.op} in time`),
      )
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#sweeper)
      this.#sweeper = undefined
    }
  }

  /**
   * A message that needs no answer, sent in order with requests (connecting first if needed). `droppable`
   * ones (relayed publishes to transient subscribers, at most once by nature) are dropped while the peer is
   * not reading and TELL_BUFFER_BYTES_MAX are waiting to be written to it.
   */
  tell(op: string, body: Record<string, unknown>, droppable = false): void {
    const frame = { t: 'req', id: 0, op, ...body }
    const link = this.#link
    if (link !== undefined && !link.closed) {
      if (!droppable || link.socket.writableLength < TELL_BUFFER_BYTES_MAX) link.send(frame)
      return
    }
    this.#connect()
      .then((opened) => opened.send(frame))
      .catch(() => {})
  }

  close(): void {
    clearInterval(this.#sweeper)
    this.#link?.close()
  }

  #connect(): Promise<LinkSocket> {
    if (this.#link !== undefined && !this.#link.closed) return Promise.resolve(this.#link)
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  async #open(): Promise<LinkSocket> {
    const { cluster, logger } = this.#options
    const endpoint = cluster.members().find((m) => m.id === this.node)?.endpoints[LINK_ENDPOINT]
    if (endpoint === undefined)
      throw new WharfError('LINK_DOWN', `broker ${this.node} is not a live member with a cluster link endpoint`)
    const secret = await this.#options.secret()
    const socket = await connect(endpoint, this.#options.tls).catch((error: Error) => {
      throw new WharfError('LINK_DOWN', `cluster link to broker ${this.node}: ${error.message}`)
    })
    const nonce = newNonce()
    return new Promise<LinkSocket>((resolve, reject) => {
      let ready = false
      const fail = (error: Error) => {
        if (!ready) reject(error)
      }
      const timer = setTimeout(
        () => link.close(new WharfError('LINK_DOWN', 'cluster link handshake timed out')),
        10_000,
      )
      const link = new LinkSocket(
        socket,
        HANDSHAKE_FRAME_BYTES_MAX,
        (frame) => {
          if (ready) return this.#onFrame(frame)
          if (isChallenge(frame)) {
            if (
              frame.node !== this.node ||
              !sameProof(proof(secret, 'server', nonce, frame.nonce, frame.node), frame.proof)
            )
              return link.close(
                new WharfError('ACCESS_REFUSED', `broker ${this.node} failed the cluster link handshake`),
              )
            link.send({ t: 'auth', proof: proof(secret, 'client', nonce, frame.nonce, cluster.nodeId) } satisfies Auth)
            return
          }
          if ((frame as { t?: string })?.t === 'ready') {
            ready = true
            clearTimeout(timer)
            link.allow(this.#options.frameBytesMax)
            this.#link = link
            resolve(link)
            return
          }
          link.close(new WharfError('ACCESS_REFUSED', `broker ${this.node} refused the cluster link`))
        },
        (error) => {
          clearTimeout(timer)
          fail(error ?? new WharfError('LINK_DOWN', `cluster link to broker ${this.node} closed`))
          if (ready) this.#down(error)
        },
      )
      link.send({ t: 'hello', node: cluster.nodeId, nonce } satisfies Hello)
    }).catch((error: Error) => {
      logger.debug({ peer: this.node, err: error.message }, 'cluster link connect failed')
      throw error
    })
  }

  #onFrame(frame: unknown): void {
    const f = frame as { t?: string; id?: number; ok?: boolean; result?: unknown; code?: string; message?: string }
    if (f.t === 'res' && typeof f.id === 'number') {
      const pending = this.#pending.get(f.id)
      if (pending === undefined) return
      this.#pending.delete(f.id)
      if (f.ok) pending.resolve(f.result)
      else pending.reject(new WharfError((f.code ?? 'INTERNAL') as never, f.message ?? 'cluster link request failed'))
      return
    }
    if (f.t === 'deliver' || f.t === 'cancel') this.subscriptions.get((f as PeerEvent).sub)?.(f as PeerEvent)
  }

  #down(error: Error | undefined): void {
    this.#link = undefined
    const reason = new WharfError(
      'LINK_DOWN',
      `cluster link to broker ${this.node} lost${error ? `: ${error.message}` : ''}`,
    )
    for (const [id, pending] of this.#pending) {
      pending.reject(reason)
      this.#pending.delete(id)
    }
    for (const listener of [...this.#downListeners]) listener()
  }
}

function connect(endpoint: { host: string; port: number }, options: LinkOptions['tls']): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (options === undefined) {
      const socket = net.connect({ host: endpoint.host, port: endpoint.port }, () => resolve(socket))
      socket.once('error', reject)
      return
    }
    const { host, port } = endpoint
    const socket = tls.connect({ ...options.connect, host, port, servername: servername(host) }, () => {
      if (socket.authorized || socket.getPeerCertificate().fingerprint256 === options.pinned) return resolve(socket)
      socket.destroy()
      reject(new Error(`peer certificate not trusted (${socket.authorizationError})`))
    })
    socket.once('error', reject)
  })
}

/** SNI takes host names only; an IP address is checked against the certificate's IP SANs without it. */
function servername(host: string): string | undefined {
  return net.isIP(host) === 0 ? host : undefined
}
