// One AMQP 1.0 connection (Part 2.4 and Part 5.3): the protocol headers, the SASL exchange through the shared
// authenticator (PLAIN, ANONYMOUS when allowed, EXTERNAL with a client certificate), open/close with a finite
// max-frame-size and idle time-out both ways, and sessions by channel (session.ts). Any framing or decoding
// error closes the connection with the standard's condition in a close frame.
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import type { Broker } from '../../broker/broker.js'
import type { Access, Principal } from '../../broker/security/authorizer.js'
import { refuseLogin } from '../common/authentication.js'
import { type ConnectionInfo, type ConnectionLifecycle, connectionInfo } from '../common/connections.js'
import { SocketOutput } from '../common/socket-output.js'
import { peerCertificateSubject } from '../common/tls.js'
import { AttachHolds } from './attach-holds.js'
import {
  Amqp10FrameError,
  encodeFrame,
  FRAME_AMQP,
  FRAME_SASL,
  type Frame,
  FrameParser,
  type ParsedItem,
  PROTOCOL_AMQP,
  PROTOCOL_SASL,
  protocolHeader,
} from './codec/frames.js'
import { type AnyInit, type Composite, MIN_MAX_FRAME_SIZE } from './codec/generated/types.js'
import { Amqp10DecodeError, Described } from './codec/values.js'
import { type Amqp10Host, type Amqp10Limits, defaultAmqp10Limits, type SessionHost } from './context.js'
import { startHeartbeats } from './heartbeats.js'
import { loginAttempt, saslLogin } from './sasl.js'
import { Session } from './session.js'
import { claimContainer, OFFERED_CAPABILITIES } from './sole-connection.js'

export { type Amqp10Host, type Amqp10Limits, defaultAmqp10Limits }

let connectionSeq = 0
const EMPTY = Buffer.alloc(0)

export class Amqp10Connection implements SessionHost {
  readonly id = `amqp10-${++connectionSeq}`
  readonly connectedAt = Date.now()
  readonly output: SocketOutput
  principal: Principal | undefined
  access: Access | undefined
  containerId: string | undefined
  /** The client's max-frame-size: transfers to it are split to fit. */
  remoteMaxFrameSize = MIN_MAX_FRAME_SIZE
  readonly #parser: FrameParser
  readonly #sessions = new Map<number, Session>()
  #state: 'header' | 'sasl' | 'amqp-header' | 'open' | 'opened' | 'closed' = 'header'
  /** A login runs: input is kept, not parsed, until it ends. */
  #waiting = false
  /** Frames of sessions whose attach is being set up. */
  readonly #holds: AttachHolds
  #lastRead = Date.now()
  #timer: NodeJS.Timeout | undefined
  readonly #socket: Socket
  readonly #lifecycle: ConnectionLifecycle<Amqp10Connection>
  readonly #onClose: (c: Amqp10Connection) => void
  #cleanedUp: () => void = () => {}
  readonly closed = new Promise<void>((resolve) => {
    this.#cleanedUp = resolve
  })

  constructor(
    readonly host: Amqp10Host,
    socket: Socket,
    lifecycle: ConnectionLifecycle<Amqp10Connection>,
    onClose: (c: Amqp10Connection) => void,
  ) {
    this.#socket = socket
    this.#lifecycle = lifecycle
    this.#onClose = onClose
    this.#parser = new FrameParser(Math.max(MIN_MAX_FRAME_SIZE, 64 * 1024))
    this.output = new SocketOutput(socket, {
      flushOn: 'immediate',
      concatBytesMax: 64 * 1024,
      writeBufferBytesMax: host.limits.writeBufferBytesMax,
      onDrain: () => {
        for (const s of this.#sessions.values()) s.resumeOutgoing()
      },
    })
    this.#holds = new AttachHolds(this.output, (frame) => this.#onFrame(frame))
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => this.#shutdown())
    socket.on('close', () => this.#shutdown())
    socket.on('error', () => this.#shutdown())
    this.#timer = setTimeout(() => {
      if (this.#state !== 'opened') this.#fail('amqp:connection:forced', 'no open frame in time')
    }, host.limits.handshakeTimeoutMs)
    this.#timer.unref()
  }

  get broker(): Broker {
    return this.host.broker
  }

  isOpen(): boolean {
    return this.#state !== 'closed'
  }

  /** Whether the socket's write buffer is over its bound (deliveries wait). */
  get backedUp(): boolean {
    return this.output.isHeld('write')
  }

  describe(): ConnectionInfo {
    return connectionInfo(
      {
        id: this.id,
        protocol: 'amqp10',
        remoteAddress: `${this.#socket.remoteAddress}:${this.#socket.remotePort}`,
        connectedAt: this.connectedAt,
        tls: this.#socket instanceof TLSSocket,
        details: { sessions: this.#sessions.size },
      },
      { user: this.principal?.name, clientId: this.containerId },
    )
  }

  send(channel: number, performative: AnyInit, payload?: Buffer): void {
    if (this.#state === 'closed') return
    this.output.write(encodeFrame(FRAME_AMQP, channel, performative, payload))
  }

  sendFrame(frame: Buffer, payload?: Buffer): void {
    if (this.#state === 'closed') return
    this.output.write(frame)
    if (payload !== undefined && payload.length > 0) this.output.write(payload)
  }

  /** Closed by an administrator or at shutdown. */
  close(description: string): void {
    if (this.#state === 'closed') return
    this.#lifecycle.closing(this, description)
    this.#sendClose('amqp:connection:forced', description)
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'closed') return
    this.#lastRead = Date.now()
    if (this.#waiting) {
      this.#parser.append(chunk)
      return
    }
    this.#guarded(() => {
      let input = chunk
      while (this.isOpen() && !this.#waiting) {
        // The parser stops after a protocol header and after a SASL frame, the only items that start a login:
        // nothing parsed is left over when one begins to wait.
        const items: ParsedItem[] = this.#parser.push(input)
        input = EMPTY
        if (items.length === 0) return
        for (const item of items) {
          if ('header' in item) this.#onHeader(item.header)
          else this.#holds.route(item)
          if (!this.isOpen()) return
        }
      }
    })
  }

  /** Runs `work`; a protocol error it throws closes the connection with its condition. */
  #guarded(work: () => void): void {
    try {
      work()
    } catch (error) {
      if (error instanceof Amqp10FrameError || error instanceof Amqp10DecodeError) {
        this.#fail(error.condition, error.message)
        return
      }
      throw error
    }
  }

  #onHeader(id: number): void {
    if (this.#state === 'header' && id === PROTOCOL_SASL) {
      this.output.write(protocolHeader(PROTOCOL_SASL))
      const mechanisms = ['PLAIN']
      if (this.broker.security.anonymous() !== undefined) mechanisms.push('ANONYMOUS')
      if (peerCertificateSubject(this.#socket) !== undefined) mechanisms.push('EXTERNAL')
      this.#sendSasl({ kind: 'sasl-mechanisms', saslServerMechanisms: mechanisms })
      this.#state = 'sasl'
      return
    }
    if (this.#state === 'amqp-header' && id === PROTOCOL_AMQP) {
      this.output.write(protocolHeader(PROTOCOL_AMQP))
      this.#state = 'open'
      return
    }
    if (this.#state === 'header' && id === PROTOCOL_AMQP && this.broker.security.anonymous() !== undefined) {
      // No SASL layer: allowed only while anonymous access is on (as RabbitMQ and Artemis do when configured).
      this.output.write(protocolHeader(PROTOCOL_AMQP))
      this.#state = 'open'
      this.#waiting = true
      void this.#login('ANONYMOUS').then((principal) => {
        this.#waiting = false
        if (principal === undefined)
          this.#fail('amqp:unauthorized-access', 'anonymous access is off: authenticate with SASL')
        else this.#onData(EMPTY)
      })
      return
    }
    if (this.#state === 'header' && id === PROTOCOL_AMQP)
      void refuseLogin(loginAttempt(this.host, this.#socket, 'none'), 'anonymous-disabled')
    // The header we speak, then close (Part 2.2).
    this.output.write(protocolHeader(this.#state === 'header' ? PROTOCOL_SASL : PROTOCOL_AMQP))
    this.#endSocket()
  }

  #sendSasl(performative: AnyInit): void {
    this.output.write(encodeFrame(FRAME_SASL, 0, performative))
  }

  #onFrame(frame: Frame): void {
    if (frame.type === FRAME_SASL) {
      if (this.#state !== 'sasl') throw new Amqp10FrameError('unexpected SASL frame', 'amqp:connection:framing-error')
      this.#onSasl(frame.performative)
      return
    }
    if (frame.type !== FRAME_AMQP)
      throw new Amqp10FrameError(`frame type ${frame.type}`, 'amqp:connection:framing-error')
    const p = frame.performative
    if (p === null) return // heartbeat
    if (p instanceof Described) throw new Amqp10DecodeError('unknown performative')
    if (this.#state === 'open') {
      if (p.kind !== 'open') throw new Amqp10FrameError(`${p.kind} before open`, 'amqp:connection:framing-error')
      this.#onOpen(p)
      return
    }
    if (this.#state !== 'opened') throw new Amqp10FrameError(`${p.kind} out of order`, 'amqp:connection:framing-error')
    this.#dispatch(frame.channel, p, frame.payload)
  }

  #onSasl(p: Composite | Described | null): void {
    if (p === null || p instanceof Described || p.kind !== 'sasl-init')
      throw new Amqp10FrameError('expected sasl-init', 'amqp:connection:framing-error')
    this.#state = 'amqp-header' // no more SASL frames are accepted while the login runs
    this.#waiting = true
    this.#parser.expectHeader()
    void this.#saslInit(p.mechanism, p.initialResponse)
  }

  async #saslInit(mechanism: string, response: Buffer | undefined): Promise<void> {
    const principal = await this.#login(mechanism, response)
    if (this.#state === 'closed') return
    if (principal === undefined) {
      this.#sendSasl({ kind: 'sasl-outcome', code: 1 })
      this.#endSocket()
      return
    }
    this.#sendSasl({ kind: 'sasl-outcome', code: 0 })
    this.#waiting = false
    // Bytes that came meanwhile start with the AMQP header: parse them now.
    this.#onData(EMPTY)
  }

  async #login(mechanism: string, response?: Buffer): Promise<Principal | undefined> {
    const principal = await saslLogin(loginAttempt(this.host, this.#socket, mechanism), response)
    if (principal !== undefined && this.#state !== 'closed') this.#authenticated(principal)
    return principal
  }

  #authenticated(principal: Principal): void {
    this.principal = principal
    this.access = this.broker.security.access(principal, this.#socket.remoteAddress)
  }

  #onOpen(open: Composite & { kind: 'open' }): void {
    const limits = this.host.limits
    // Frames of at least 512 bytes are what every peer must take (Part 2.7.1): below, we could not send.
    if (open.maxFrameSize < MIN_MAX_FRAME_SIZE)
      throw new Amqp10FrameError(
        `max-frame-size ${open.maxFrameSize} is below ${MIN_MAX_FRAME_SIZE}`,
        'amqp:frame-size-too-small',
      )
    this.containerId = open.containerId
    const refused = claimContainer(this.broker, open, this.id)
    if (refused !== undefined) {
      for (const frame of refused) this.send(0, frame)
      this.#endSocket()
      return
    }
    this.remoteMaxFrameSize = Math.max(MIN_MAX_FRAME_SIZE, Math.min(open.maxFrameSize, 2 ** 31))
    this.#parser.maxFrameSize = limits.maxFrameSize
    this.#state = 'opened'
    this.send(0, {
      kind: 'open',
      containerId: `wharf-${randomUUID()}`,
      maxFrameSize: limits.maxFrameSize,
      channelMax: Math.min(limits.channelMax, open.channelMax),
      idleTimeOut: limits.idleTimeoutMs,
      offeredCapabilities: OFFERED_CAPABILITIES,
    })
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = startHeartbeats(this.host.limits.idleTimeoutMs, open.idleTimeOut, this.output, {
      lastRead: () => this.#lastRead,
      expired: () => this.#fail('amqp:resource-limit-exceeded', 'local-idle-timeout expired'),
    })
    if (this.principal !== undefined) this.#lifecycle.opened(this)
  }

  #dispatch(channel: number, p: Composite, payload: Buffer): void {
    switch (p.kind) {
      case 'begin': {
        if (this.#sessions.has(channel))
          throw new Amqp10FrameError(`channel ${channel} already has a session`, 'amqp:not-allowed')
        if (channel > this.host.limits.channelMax)
          throw new Amqp10FrameError(`channel ${channel} over channel-max`, 'amqp:connection:framing-error')
        const session = new Session(this, channel, p)
        this.#sessions.set(channel, session)
        return
      }
      case 'close':
        this.#sendClose()
        return
      case 'open':
        throw new Amqp10FrameError('a second open', 'amqp:illegal-state')
      default: {
        const session = this.#sessions.get(channel)
        if (session === undefined) throw new Amqp10FrameError(`no session on channel ${channel}`, 'amqp:not-found')
        if (p.kind === 'end') {
          this.#sessions.delete(channel)
          session.end(true)
          return
        }
        const pending = session.handle(p, payload)
        if (pending !== undefined) this.#waitFor(channel, pending)
      }
    }
  }

  /**
   * The session on `channel` handles its next frames once `work` (a link being attached) is done, so a flow
   * right after an attach finds its link; its protocol error closes the connection.
   */
  #waitFor(channel: number, work: Promise<void>): void {
    this.#holds.attaching(channel)
    work.then(
      () => this.#guarded(() => this.#holds.attached(channel, () => this.isOpen())),
      (error: unknown) => {
        if (error instanceof Amqp10FrameError || error instanceof Amqp10DecodeError)
          this.#fail(error.condition, error.message)
        else this.#fail('amqp:internal-error', error instanceof Error ? error.message : String(error))
      },
    )
  }

  /** A protocol error: logged, close with its condition, then the socket ends. */
  #fail(condition: string, description: string): void {
    if (this.#state === 'closed') return
    this.#lifecycle.protocolError(this, `${condition}: ${description}`)
    this.#sendClose(condition, description)
  }

  #sendClose(condition?: string, description?: string): void {
    if (this.#state === 'opened' || this.#state === 'open') {
      if (this.#state === 'open') this.send(0, { kind: 'open', containerId: 'wharf' })
      this.send(0, {
        kind: 'close',
        ...(condition !== undefined ? { error: { kind: 'error', condition, description } } : {}),
      } as AnyInit)
    }
    this.#endSocket()
  }

  /** What was written goes out, then the socket ends (destroyed if the peer does not read it within a second). */
  #endSocket(): void {
    this.output.flush()
    this.#socket.end()
    setTimeout(() => this.#socket.destroy(), 1000).unref()
    this.#shutdown()
  }

  #shutdown(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      clearInterval(this.#timer)
    }
    this.output.close()
    const sessions = [...this.#sessions.values()]
    this.#sessions.clear()
    for (const s of sessions) s.end(false)
    this.#onClose(this)
    void this.broker.releaseOwner(this.id).finally(() => this.#cleanedUp())
  }
}
