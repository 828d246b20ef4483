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

/**
 * What an adapter tells the registry about a connection's life, for the log: the handshake is done (the
 * client and user are known), the protocol refused something (with the reason sent to the client), or why it
 * is closing. The registry writes the lines, so every protocol logs the same fields the same way.
 */
export interface ConnectionLifecycle<C> {
  /** Handshake and authentication done: logged once at info with the client id and user. */
  opened(connection: C): void
  /**
   * A protocol error or refusal, logged at warn with `reason`: the text sent to the client (an AMQP close
   * text, an MQTT reason, ...) or why the connection is dropped. Unless `closes` is false (an AMQP channel
   * error), it is also the reason the close line gives.
   */
  protocolError(connection: C, reason: string, closes?: boolean): void
  /** Why the connection is about to close (the first reason given wins); logged with the close. */
  closing(connection: C, reason: string): void
}

/** What the registry remembers of a connection between its accept and its close. */
interface Lifecycle {
  opened: boolean
  closeReason: string | undefined
}

/** The reason a close line gives when no side said why: the peer went away. */
const PEER_CLOSED = 'closed by the client or the network'

export class ConnectionRegistry<C> implements ConnectionDirectory, Iterable<C>, ConnectionLifecycle<C> {
  readonly #open = new Map<C, Lifecycle>()
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

  /** Registers a connection as it is accepted (logged at debug). */
  add(connection: C): void {
    if (this.#open.has(connection)) return
    this.#open.set(connection, { opened: false, closeReason: undefined })
    if (this.#logger.isLevelEnabled('debug'))
      this.#logger.debug(this.#fields(connection), `${this.#adapter.protocol} connection accepted`)
  }

  /** Unregisters a connection and logs its close: at info once it had opened, else (a port probe) at debug. */
  delete(connection: C): boolean {
    const life = this.#open.get(connection)
    if (life === undefined) return false
    this.#open.delete(connection)
    const level = life.opened ? 'info' : 'debug'
    if (this.#logger.isLevelEnabled(level)) {
      this.#logger[level](
        { ...this.#fields(connection, true), reason: life.closeReason ?? PEER_CLOSED },
        `${this.#adapter.protocol} connection closed`,
      )
    }
    return true
  }

  /** Registers a connection until its socket closes (after the socket's earlier close handlers). */
  track(connection: C, socket: { once(event: 'close', listener: () => void): unknown }): void {
    this.add(connection)
    socket.once('close', () => this.delete(connection))
  }

  opened(connection: C): void {
    const life = this.#open.get(connection)
    if (life === undefined || life.opened) return
    life.opened = true
    if (!this.#logger.isLevelEnabled('info')) return
    this.#logger.info(this.#fields(connection), `${this.#adapter.protocol} connection opened`)
  }

  protocolError(connection: C, reason: string, closes = true): void {
    if (closes) this.closing(connection, reason)
    this.#logger.warn({ ...this.#fields(connection), reason }, `${this.#adapter.protocol} protocol error`)
  }

  closing(connection: C, reason: string): void {
    const life = this.#open.get(connection)
    if (life !== undefined) life.closeReason ??= reason
  }

  /** The fields every lifecycle line carries: who, from where, as whom (and, closing, for how long). */
  #fields(connection: C, withDuration = false): Record<string, unknown> {
    let info: ConnectionInfo
    try {
      info = this.#adapter.describe(connection)
    } catch {
      return { connection: this.#adapter.id(connection) }
    }
    const fields: Record<string, unknown> = { connection: info.id, peer: info.remoteAddress }
    if (info.clientId !== undefined) fields.clientId = info.clientId
    if (info.clientName !== undefined && info.clientName !== info.clientId) fields.client = info.clientName
    if (info.clientVersion !== undefined) fields.clientVersion = info.clientVersion
    if (info.user !== undefined) fields.user = info.user
    if (info.tls) fields.tls = true
    if (withDuration) fields.durationMs = Date.now() - info.connectedAt
    return fields
  }

  [Symbol.iterator](): Iterator<C> {
    return this.#open.keys()
  }

  list(): ConnectionInfo[] {
    const out: ConnectionInfo[] = []
    for (const c of this.#open.keys()) if (this.#adapter.isOpen(c)) out.push(this.#adapter.describe(c))
    return out
  }

  close(id: string, reason: CloseReason): boolean {
    for (const c of this.#open.keys())
      if (this.#adapter.id(c) === id && this.#adapter.isOpen(c)) {
        this.closing(c, closeReasonText[reason])
        this.#adapter.close(c, reason)
        return true
      }
    return false
  }

  /** Closes every connection (shutdown); a connection leaves the registry once its socket closes. */
  closeAll(reason: CloseReason): void {
    for (const c of [...this.#open.keys()]) {
      this.closing(c, closeReasonText[reason])
      this.#adapter.close(c, reason)
    }
  }
}

const closeReasonText: Record<CloseReason, string> = {
  admin: 'closed by an administrator',
  shutdown: 'broker shutting down',
}

/** A socket's peer as `address:port`. */
export function peerOf(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`
}
