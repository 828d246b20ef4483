// The connections of one listener, as the admin API and the server see them: one ConnectionInfo shape for
// every protocol, listing, close by id, and closing all on shutdown. The adapter says how its connection is
// described and how it says goodbye (AMQP connection.close, MQTT DISCONNECT, Kafka a dropped socket).
import type { Logger } from '../../util/logger.js'

/** One open client connection, the same shape for every protocol. */
export interface ConnectionInfo {
  id: string
  protocol: string
  /** The peer as `address:port` (a WebSocket connection says so after the port). */
  remoteAddress: string
  connectedAt: number
  /** The client's own id (Kafka client.id, MQTT client identifier), where the protocol has one. */
  clientId?: string
  /** Client software (AMQP product, Kafka KIP-511 name), else the client id. */
  clientName?: string
  clientVersion?: string
  /** The authenticated principal; undefined while the connection has not authenticated. */
  user?: string
  /** The transport is TLS. */
  tls: boolean
  /** Held back by a resource alarm because it publishes (listeners that block publishers say so). */
  blockedByAlarm?: boolean
  /** Protocol-specific state and counters (channels, inflight, subscriptions…). */
  details?: Record<string, unknown>
}

type OptionalField = 'clientId' | 'clientName' | 'clientVersion' | 'user'

/** An adapter's ConnectionInfo: the optional fields the connection does not know (undefined) are left out. */
export function connectionInfo(
  fields: Omit<ConnectionInfo, OptionalField>,
  optional: { readonly [K in OptionalField]?: string | undefined },
): ConnectionInfo {
  const info: ConnectionInfo = { ...fields }
  for (const key of ['clientId', 'clientName', 'clientVersion', 'user'] as const) {
    const value = optional[key]
    if (value !== undefined) info[key] = value
  }
  return info
}

/** Why a connection is closed from outside: each adapter words it for its protocol. */
export type CloseReason = 'admin' | 'shutdown'

/** What the admin API reads of a listener's connections. */
export interface ConnectionDirectory {
  readonly protocol: string
  /** Registered connections, including those still in their handshake. */
  readonly size: number
  /** Open connections (not closing), oldest first. */
  list(): ConnectionInfo[]
  /** Closes one open connection; false if there is no such id. */
  close(id: string, reason: CloseReason): boolean
}

/** How a registry reads and closes the adapter's connection objects. */
export interface ConnectionAdapter<C> {
  protocol: string
  id(connection: C): string
  /** False once closing is under way: such connections are no longer listed or closable. */
  isOpen(connection: C): boolean
  describe(connection: C): ConnectionInfo
  close(connection: C, reason: CloseReason): void
}

export class ConnectionRegistry<C> implements ConnectionDirectory, Iterable<C> {
  readonly #open = new Set<C>()
  readonly #adapter: ConnectionAdapter<C>
  readonly #logger: Logger

  constructor(adapter: ConnectionAdapter<C>, logger: Logger) {
    this.#adapter = adapter
    this.#logger = logger
  }

  get protocol(): string {
    return this.#adapter.protocol
  }

  get size(): number {
    return this.#open.size
  }

  add(connection: C): void {
    this.#open.add(connection)
  }

  delete(connection: C): boolean {
    return this.#open.delete(connection)
  }

  /** Registers a connection until its socket closes (after the socket's earlier close handlers). */
  track(connection: C, socket: { once(event: 'close', listener: () => void): unknown }): void {
    this.#open.add(connection)
    socket.once('close', () => this.#open.delete(connection))
  }

  [Symbol.iterator](): Iterator<C> {
    return this.#open[Symbol.iterator]()
  }

  list(): ConnectionInfo[] {
    const out: ConnectionInfo[] = []
    for (const c of this.#open) if (this.#adapter.isOpen(c)) out.push(this.#adapter.describe(c))
    return out
  }

  close(id: string, reason: CloseReason): boolean {
    for (const c of this.#open)
      if (this.#adapter.id(c) === id && this.#adapter.isOpen(c)) {
        if (reason === 'admin')
          this.#logger.info({ connection: id }, `${this.#adapter.protocol} connection closed by an administrator`)
        this.#adapter.close(c, reason)
        return true
      }
    return false
  }

  /** Closes every connection (shutdown); a connection leaves the registry once its socket closes. */
  closeAll(reason: CloseReason): void {
    for (const c of [...this.#open]) this.#adapter.close(c, reason)
  }
}

/** A socket's peer as `address:port`. */
export function peerOf(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`
}
