// One Kafka client connection: frames in, responses out, strictly in request order (responses.ts), each read
// burst's output in one burst through the common SocketOutput. Reading pauses while too many requests
// (inflight), unwritten socket bytes (write) or response bytes the client has not taken (backlog) are pending,
// a produce is held by a resource alarm (alarm) or the client is over a quota (quota), as Kafka mutes the
// channel. Before authentication frames are capped small; an idle connection closes after connectionsMaxIdleMs.
import type net from 'node:net'
import type { Operation, ResourceType } from '../../broker/security/acls.js'
import type { Access, Principal } from '../../broker/security/authorizer.js'
import { WharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import { peerOf } from '../common/connections.js'
import { SocketOutput } from '../common/socket-output.js'
import { ProducerHold } from './alarm-throttle.js'
import { ApiKey, type ApiVersionsResponse, FrameSplitter, type RequestHeader, readRequest } from './codec/index.js'
import { inflightRequestsMax, writableBytesHigh } from './options.js'
import { QuotaMute } from './quota-mute.js'
import { ResponseBudget } from './response-budget.js'
import { ResponseQueue, type Slot } from './responses.js'
import { SaslSession } from './sasl-session.js'
import type { ListenerState } from './server-state.js'
import { advertisedApiKeys, isVersionSupported } from './versions.js'

export { NO_RESPONSE, type Slot, ThenClose, thenClose } from './responses.js'
export type ServerState = ListenerState<Connection>

export type Handler = (c: Connection, request: never, version: number, header: RequestHeader) => unknown

/** APIs a connection may send before it has a principal, and the only ones during a SASL exchange. */
const preAuthApis = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate])

let connectionSeq = 0

/**
 * Requests are decoded and dispatched synchronously in arrival order (so a connection's produce appends reach
 * the log in the order they were sent), but handlers may finish out of order (a parked JoinGroup, a long-poll
 * Fetch): each request takes a slot in the response queue and responses are written only from its head.
 */
export class Connection {
  /** Stable id for the admin API (list and close connections). */
  readonly id = `kafka-${process.pid}-${++connectionSeq}`
  readonly connectedAt = Date.now()
  readonly remoteAddress: string
  /** client.id from the latest request header (kafkajs/librdkafka send it on every request). */
  clientId: string | undefined
  /** ApiVersions v3+ (KIP-511): librdkafka and the Java client name themselves; kafkajs does not. */
  clientSoftwareName: string | undefined
  clientSoftwareVersion: string | undefined
  readonly server: ServerState
  /** Accepted on the TLS port. */
  readonly tls: boolean
  readonly socket: net.Socket
  readonly #output: SocketOutput
  readonly clientHost: string
  readonly logger: Logger
  /** Aborted when the connection closes: long polls stop waiting. */
  readonly closing = new AbortController()
  /**
   * Who the connection acts as: from SASL, from a verified client certificate, or anonymous (when the policy
   * allows it) from the first request that needs one. Undefined until then.
   */
  #principal: Principal | undefined
  #access: Access | undefined
  /** The SASL exchange (SaslHandshake, SaslAuthenticate or bare tokens). */
  readonly sasl = new SaslSession((principal) => this.authenticate(principal))
  private readonly splitter: FrameSplitter
  private readonly handlers: ReadonlyMap<number, Handler>
  private readonly responses = new ResponseQueue()
  /** Turns to build Fetch responses within the response bytes in flight. */
  readonly budget: ResponseBudget
  /** The request whose handler is running synchronously now (a handler takes its place in the order from it). */
  #dispatching: Slot | undefined
  /** Produces held by a resource alarm, and reading muted while over a quota (quota-throttle.ts). */
  readonly produceHold: ProducerHold
  readonly quotaMute: QuotaMute
  private closed = false
  /** The first request past the handshake APIs has come (the client id and principal are known). */
  #announced = false

  constructor(
    server: ServerState,
    socket: net.Socket,
    handlers: ReadonlyMap<number, Handler>,
    options: { tls: boolean; principal?: Principal | undefined },
  ) {
    this.server = server
    this.socket = socket
    this.handlers = handlers
    this.tls = options.tls
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`
    this.remoteAddress = peerOf(socket)
    this.logger = server.logger.child({ client: `${socket.remoteAddress}:${socket.remotePort}` })
    if (options.principal !== undefined) this.authenticate(options.principal)
    this.splitter = new FrameSplitter(server.options.frameBytesMax)
    // Responses are written by reference (a Fetch carries record batches as stored), one writev per burst.
    this.#output = new SocketOutput(socket, {
      flushOn: 'tick',
      concatBytesMax: 0,
      writeBufferBytesMax: writableBytesHigh,
      onDrain: () => this.maybeResume(),
    })
    this.budget = new ResponseBudget(server.options.responseBytesInFlightMax, this.#output, this.responses)
    this.produceHold = new ProducerHold(server.throttle, this.#output)
    this.quotaMute = new QuotaMute(this.#output)
    const idleMs = server.options.connectionsMaxIdleMs
    if (idleMs > 0) {
      socket.setTimeout(idleMs)
      socket.on('timeout', () => this.onIdle(idleMs))
    }
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.logger.debug({ err: error }, 'kafka socket error')
      server.connections.closing(this, `socket error: ${error.code ?? error.message}`)
    })
    socket.on('close', () => this.onClose())
  }

  /** The principal once the connection has one (see #principal). */
  get principal(): Principal | undefined {
    return this.#principal
  }

  /** The user who authenticated (SASL or certificate); undefined for anonymous or not yet authenticated. */
  get user(): string | undefined {
    return this.#principal?.mechanism === 'anonymous' ? undefined : this.#principal?.name
  }

  authenticate(principal: Principal): void {
    this.#principal = principal
    this.#access = this.server.broker.security.access(principal, this.socket.remoteAddress)
  }

  /** The port Metadata and FindCoordinator advertise: the one this connection came in on. */
  get advertisedPort(): number {
    // Always set: the connection came in on it.
    return (this.tls ? this.server.tlsPort : this.server.plainPort) ?? 0
  }

  /** The principal's decisions (its host as the rules name it), once the connection has a principal. */
  get access(): Access | undefined {
    return this.#access
  }

  /** May this connection's principal do `operation` on the resource (only called once a principal is set)? */
  allows(operation: Operation, type: ResourceType, name: string): boolean {
    return this.#access?.allows(operation, type, name) ?? false
  }

  private get pending(): number {
    return this.responses.pending
  }

  /** Response bytes the client has not taken: on the socket, or finished behind an unfinished request. */
  get responseBytesInFlight(): number {
    return this.#output.bufferedBytes + this.responses.heldBytes
  }

  /** Why reading is paused now (empty while reading), for the admin API. */
  get pausedFor(): string[] {
    return this.#output.pausedFor
  }

  /** The slot of the request whose handler runs now; read synchronously, before the handler's first await. */
  get dispatching(): Slot {
    return this.#dispatching!
  }

  /** No bytes either way for idleMs: closed unless a request is under way (a parked JoinGroup, a long poll). */
  private onIdle(idleMs: number): void {
    if (this.closed) return
    if (this.pending > 0 && this.#output.bufferedBytes === 0) {
      this.socket.setTimeout(idleMs)
      return
    }
    this.server.connections.closing(this, `no requests for ${idleMs} ms (connections.max.idle.ms)`)
    this.close()
  }

  /** The frame cap for what arrives next: small until the connection may act as someone. */
  private frameLimit(): number {
    const options = this.server.options
    if (this.#principal !== undefined) return options.frameBytesMax
    if (!this.sasl.underWay && this.server.broker.security.anonymous() !== undefined) return options.frameBytesMax
    return Math.min(options.saslFrameBytesMax, options.frameBytesMax)
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return
    let frames: Buffer[]
    try {
      this.splitter.frameBytesMax = this.frameLimit()
      frames = this.splitter.push(chunk)
    } catch (error) {
      this.fail('bad frame', error)
      return
    }
    for (const frame of frames) {
      if (this.closed) break
      this.onFrame(frame)
    }
    this.flush()
    this.#output.flush()
    if (this.closed) return
    if (this.pending >= inflightRequestsMax) this.#output.hold('inflight')
    if (this.budget.over) this.#output.hold('backlog')
  }

  private maybeResume(): void {
    if (this.closed) return
    if (this.pending < inflightRequestsMax / 2) this.#output.release('inflight')
    if (!this.budget.over) this.#output.release('backlog')
    this.budget.recheck()
  }

  /** A bare SASL token (after SaslHandshake v0); failure closes the connection without an answer, as Kafka does. */
  private onRawSaslToken(token: Buffer): void {
    const stepping = this.sasl.step(token)
    if (stepping === undefined) {
      this.fail('SASL token out of turn')
      return
    }
    const slot = this.responses.enqueue(null, 0, 0)
    stepping.then(
      (step) => {
        if (step.kind === 'failure') {
          // The refused login is logged where it is checked (common/authentication.ts).
          this.server.connections.closing(this, 'SASL authentication failed')
          this.close()
          return
        }
        this.complete(slot, step.kind === 'challenge' ? step.challenge : step.data)
      },
      (error) => this.fail('SASL step failed', error),
    )
  }

  private onFrame(frame: Buffer): void {
    if (this.sasl.raw) {
      this.onRawSaslToken(frame)
      return
    }
    let decoded: ReturnType<typeof readRequest>
    try {
      decoded = readRequest(frame)
    } catch (error) {
      this.fail('bad request header', error)
      return
    }
    const { header, api, body } = decoded
    const version = header.requestApiVersion
    if (header.clientId) this.clientId = header.clientId
    if (api === undefined || !isVersionSupported(api.apiKey, version)) {
      if (header.requestApiKey === ApiKey.ApiVersions && api !== undefined) {
        // KIP-511: an unknown ApiVersions version is answered in v0 layout with error 35 and our key list, so
        // librdkafka can retry with a version we have.
        const slot = this.responses.enqueue(api, 0, header.correlationId)
        this.settle(slot, { errorCode: 35, apiKeys: advertisedApiKeys } satisfies ApiVersionsResponse)
        return
      }
      // Kafka closes the connection on an API or version it does not serve; clients negotiate to avoid this.
      this.fail(`unsupported api ${header.requestApiKey} v${version}`)
      return
    }
    if (!preAuthApis.has(api.apiKey)) {
      // Kafka's rule on a SASL listener: nothing but the handshake APIs until the exchange has succeeded.
      if (this.sasl.underWay) {
        this.fail(`api ${api.name} during SASL authentication`)
        return
      }
      if (this.#principal === undefined) {
        const anonymous = this.server.broker.security.anonymous()
        if (anonymous === undefined) {
          this.fail(`api ${api.name} before authentication (anonymous access is off)`)
          return
        }
        this.authenticate(anonymous)
      }
      if (!this.#announced) {
        this.#announced = true
        this.server.connections.opened(this)
      }
    }
    let request: unknown
    try {
      request = api.decodeRequest(body, version)
    } catch (error) {
      this.fail(`malformed ${api.name} v${version} request`, error)
      return
    }
    const handler = this.handlers.get(api.apiKey)
    if (handler === undefined) {
      this.fail(`no handler for ${api.name}`)
      return
    }
    const slot = this.responses.enqueue(api, version, header.correlationId)
    let result: unknown
    this.#dispatching = slot
    try {
      result = handler(this, request as never, version, header)
    } catch (error) {
      this.fail(`${api.name} handler failed`, error)
      return
    } finally {
      this.#dispatching = undefined
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.complete(slot, response),
        (error) => this.fail(`${api.name} handler failed`, error),
      )
    } else {
      this.settle(slot, result)
    }
  }

  private settle(slot: Slot, result: unknown): void {
    try {
      this.responses.settle(slot, result)
    } catch (error) {
      // An encode failure is our bug (a field the version cannot carry): close rather than send garbage.
      this.fail(`cannot encode ${slot.api?.name} v${slot.version} response`, error)
    }
    this.budget.release(slot)
  }

  private complete(slot: Slot, response: unknown): void {
    if (this.closed) return
    this.settle(slot, response)
    this.flush()
    this.#output.flush()
    this.maybeResume()
    if (this.budget.over) this.#output.hold('backlog')
  }

  /** Queues every finished response at the head of the queue for the next burst. */
  private flush(): void {
    if (this.closed) return
    if (this.responses.writeTo(this.#output)) this.endAfterWrite()
  }

  /** Closes the connection after a protocol violation (Kafka's answer to bad input: disconnect). */
  fail(reason: string, error?: unknown): void {
    if (this.closed) return
    if (error === undefined || error instanceof WharfError)
      this.server.connections.protocolError(this, error === undefined ? reason : `${reason}: ${error.message}`)
    else {
      this.logger.error({ err: error, reason }, 'kafka connection closed on an unexpected error')
      this.server.connections.closing(this, `${reason} (internal error)`)
    }
    this.close()
  }

  /** Ends the connection once everything queued so far has gone out (after an authentication failure). */
  private endAfterWrite(): void {
    if (this.closed) return
    this.server.connections.closing(this, 'closed after its last response (a refused SASL handshake or login)')
    this.closed = true
    this.closing.abort()
    this.budget.close()
    this.#output.flush()
    this.#output.close()
    this.socket.end()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.closing.abort()
    this.budget.close()
    this.#output.close()
    this.socket.destroy()
  }

  private onClose(): void {
    this.closed = true
    this.closing.abort()
    this.budget.close()
  }

  get isClosed(): boolean {
    return this.closed
  }
}
