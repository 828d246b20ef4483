// One STOMP connection over a TCP, TLS or WebSocket stream. Frames are handled strictly in order: CONNECT,
// SUBSCRIBE and a SEND that creates its queue are awaited before the next frame (the socket is not read
// meanwhile); a SEND is routed at once and only its receipt waits. Every error — a malformed or oversized
// frame, a refused action, a broker failure — is one ERROR frame with a `message` header, then the
// connection closes. Heart-beats both ways once negotiated; no CONNECT within connectTimeoutMs closes it.
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { CreditGroup } from '../../../broker/credit.js'
import type { Access, Principal } from '../../../broker/security/authorizer.js'
import { type ConnectionInfo, type ConnectionLifecycle, connectionInfo } from '../../common/connections.js'
import { SocketOutput } from '../../common/socket-output.js'
import { isTls } from '../../common/tls.js'
import { encodeFrame, HEARTBEAT, type HeaderList } from '../wire/encode.js'
import { type Frame, StompFrameError, type StompVersion } from '../wire/frame.js'
import { FrameParser } from '../wire/parser.js'
import { connect } from './connect.js'
import type { ConnectionCore, StompHost } from './context.js'
import { failureText, Sending } from './send.js'
import { Subscriptions } from './subscriptions.js'
import { Turns } from './turns.js'

export interface StompTransport {
  /** The TCP or TLS socket underneath (for a WebSocket, the upgraded HTTP socket). */
  socket: Socket
  /** How the peer is shown when not the socket's own address (WebSocket). */
  remoteAddress?: string
  /** A WebSocket upgrade sent by a page of another origin: only a login and passcode count. */
  crossOrigin?: boolean
}

/** How long a closing connection waits for its ERROR to be read before the socket is destroyed. */
const CLOSE_LINGER_MS = 1000

let connectionSeq = 0

export class StompConnection implements ConnectionCore {
  readonly id = `stomp-${process.pid.toString(36)}-${(++connectionSeq).toString(36)}`
  readonly host: StompHost
  readonly output: SocketOutput
  readonly deliveryCredit = new CreditGroup(0)
  readonly connectedAt = Date.now()
  version: StompVersion = '1.0'
  principal: Principal | undefined
  access: Access | undefined
  clientId: string | undefined
  clientHost: string | undefined
  readonly #stream: Duplex
  readonly #transport: StompTransport
  readonly #parser: FrameParser
  readonly #subscriptions: Subscriptions
  readonly #sending: Sending
  #connected = false
  #closed = false
  #published = false
  #disconnecting = false
  /** A violation found after the frames still queued: ERROR once they are handled. */
  #parseError: string | undefined
  /** Frames parsed and not yet handled, and the index of the next one. */
  #frames: Frame[] = []
  #next = 0
  #pumping = false
  /** Receipts and DISCONNECT in frame order, each after its own work and the ones before it. */
  readonly #turns = new Turns(() => !this.#closed)
  #lastRead = Date.now()
  #timer: NodeJS.Timeout | undefined
  #expectEveryMs = 0
  #sendEveryMs = 0
  readonly #onClose: (c: StompConnection) => void
  /** The registry's log of opens, protocol errors and closes. */
  readonly #lifecycle: ConnectionLifecycle<StompConnection>
  #cleanedUp: () => void = () => {}
  /** Resolves once the connection closed and gave its deliveries back. */
  readonly closed = new Promise<void>((resolve) => {
    this.#cleanedUp = resolve
  })

  constructor(
    host: StompHost,
    stream: Duplex,
    transport: StompTransport,
    lifecycle: ConnectionLifecycle<StompConnection>,
    onClose: (c: StompConnection) => void,
  ) {
    this.#lifecycle = lifecycle
    this.host = host
    this.#stream = stream
    this.#transport = transport
    this.#onClose = onClose
    this.#parser = new FrameParser(host.limits)
    this.#subscriptions = new Subscriptions(this)
    this.#sending = new Sending(this)
    this.output = new SocketOutput(stream, {
      flushOn: 'immediate',
      concatBytesMax: 64 * 1024,
      writeBufferBytesMax: host.limits.writeBufferBytesMax,
      onFlush: () => {
        if (this.output.isHeld('write')) this.#subscriptions.socketBackedUp(true)
      },
      onDrain: () => this.#subscriptions.socketBackedUp(false),
    })
    stream.on('data', (chunk: Buffer) => this.#onData(chunk))
    stream.on('end', () => this.#close())
    stream.on('close', () => this.#close())
    stream.on('error', () => this.#close())
    this.#timer = setTimeout(() => {
      if (!this.#connected) this.fail('no CONNECT frame in time')
    }, host.limits.connectTimeoutMs)
    this.#timer.unref()
  }

  get broker() {
    return this.host.broker
  }

  /** Has published: held back while a resource alarm is on. */
  get blockedPublisher(): boolean {
    return this.output.isHeld('alarm')
  }

  isOpen(): boolean {
    return !this.#closed
  }

  describe(): ConnectionInfo {
    return connectionInfo(
      {
        id: this.id,
        protocol: 'stomp',
        remoteAddress:
          this.#transport.remoteAddress ??
          `${this.#transport.socket.remoteAddress}:${this.#transport.socket.remotePort}`,
        connectedAt: this.connectedAt,
        tls: isTls(this.#transport.socket),
        details: {
          version: this.version,
          subscriptions: this.#subscriptions.count,
          unacked: this.#subscriptions.unackedCount,
          publishesInFlight: this.#sending.inflight,
          heartBeat: [this.#sendEveryMs, this.#expectEveryMs],
        },
      },
      { user: this.principal?.name, clientName: this.clientHost },
    )
  }

  send(command: string, headers: HeaderList, body?: Buffer): void {
    if (this.#closed) return
    const bytes = encodeFrame(command, headers, this.version, body)
    if (Array.isArray(bytes)) this.output.writeAll(bytes)
    else this.output.write(bytes)
  }

  after(work: Promise<unknown> | undefined, then: () => void): void {
    this.#turns.add(work, then)
  }

  fail(message: string, receipt?: string, detail?: string): void {
    if (this.#closed) return
    this.#lifecycle.protocolError(this, message)
    this.#error(message, receipt, detail)
  }

  /** ERROR, then the socket ends (destroyed if the peer does not read it within CLOSE_LINGER_MS). */
  #error(message: string, receipt?: string, detail?: string): void {
    const headers: HeaderList = [['message', message]]
    if (receipt !== undefined) headers.push(['receipt-id', receipt])
    headers.push(['content-type', 'text/plain'])
    this.send('ERROR', headers, Buffer.from(detail ?? message))
    this.output.flush()
    this.#stream.end()
    setTimeout(() => this.#stream.destroy(), CLOSE_LINGER_MS).unref()
    this.#close()
  }

  /** A resource alarm came on (reason) or cleared (null). */
  alarmChanged(reason: string | null): void {
    if (reason === null) {
      if (this.output.isHeld('alarm')) {
        this.output.release('alarm')
        this.#pump()
      }
    } else if (this.#published) this.output.hold('alarm')
  }

  /** Closed by an administrator or at shutdown: ERROR, then close. */
  close(message: string): void {
    if (this.#closed) return
    this.#lifecycle.closing(this, message)
    this.#error(message)
  }

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#disconnecting) return
    this.#lastRead = Date.now()
    const frames: Frame[] = []
    try {
      this.#parser.push(chunk, frames)
    } catch (error) {
      // The frames before the bad one are handled first; nothing after it is read.
      this.#parseError = failureText(error)
      this.#disconnecting = true
    }
    if (frames.length === 0 && this.#parseError === undefined) return
    if (this.#next === this.#frames.length) {
      this.#frames = frames
      this.#next = 0
    } else this.#frames.push(...frames)
    this.#pump()
  }

  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    void this.#run()
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed && this.#next < this.#frames.length) {
        const frame = this.#frames[this.#next]!
        if (frame.command === 'SEND' && this.host.alarm !== null) {
          // A publisher waits, unread and unrouted, until the alarm clears (alarmChanged resumes it).
          this.#published = true
          this.output.hold('alarm')
          return
        }
        this.#next++
        this.output.hold('input')
        try {
          const pending = this.#handle(frame)
          if (pending !== undefined) await pending
        } catch (error) {
          this.fail(failureText(error), frame.headers.get('receipt'))
          return
        }
      }
      if (this.#parseError !== undefined && !this.#closed && this.#next === this.#frames.length) {
        this.fail(this.#parseError)
        return
      }
      this.output.release('input')
    } finally {
      this.#pumping = false
    }
  }

  #handle(frame: Frame): Promise<void> | undefined {
    const command = frame.command
    if (!this.#connected) {
      if (command !== 'CONNECT' && command !== 'STOMP')
        throw new StompFrameError(`the first frame must be CONNECT or STOMP, not ${command}`)
      return this.#connect(frame)
    }
    switch (command) {
      case 'SEND':
        this.#published = true
        return this.#sending.send(frame)
      case 'SUBSCRIBE':
        return this.#withReceipt(frame, this.#subscriptions.subscribe(frame))
      case 'UNSUBSCRIBE':
        return this.#withReceipt(frame, this.#subscriptions.unsubscribe(frame))
      case 'ACK':
      case 'NACK': {
        const open = this.#sending.transaction(frame)
        const deliveries = this.#subscriptions.take(frame)
        if (open !== undefined) this.#sending.settleIn(open, deliveries, command === 'ACK')
        else this.#subscriptions.settle(deliveries, command === 'ACK')
        this.#receipt(frame)
        return undefined
      }
      case 'BEGIN':
        this.#sending.begin(frame)
        return undefined
      case 'COMMIT':
        this.#sending.commit(frame)
        return undefined
      case 'ABORT':
        this.#sending.abort(frame)
        return undefined
      case 'DISCONNECT':
        this.#disconnect(frame)
        return undefined
      default:
        throw new StompFrameError(`${command} is not allowed after CONNECT`)
    }
  }

  async #withReceipt(frame: Frame, work: Promise<void>): Promise<void> {
    await work
    this.#receipt(frame)
  }

  #receipt(frame: Frame): void {
    const receipt = frame.headers.get('receipt')
    if (receipt !== undefined) this.after(undefined, () => this.send('RECEIPT', [['receipt-id', receipt]]))
  }

  async #connect(frame: Frame): Promise<void> {
    const negotiated = await connect(this, frame, {
      socket: this.#transport.socket,
      crossOrigin: this.#transport.crossOrigin === true,
    })
    if (negotiated === undefined || this.#closed) return
    this.#connected = true
    this.clientHost = frame.headers.get('host')
    this.#lifecycle.opened(this)
    this.#parser.negotiated(this.version)
    clearTimeout(this.#timer)
    this.#sendEveryMs = negotiated.sendEveryMs
    this.#expectEveryMs = negotiated.expectEveryMs
    this.#startHeartbeats()
    // Frames that came with the CONNECT were held back until its version was known.
    this.#onData(Buffer.alloc(0))
  }

  #startHeartbeats(): void {
    const { sendEveryMs, expectEveryMs } = this
    const every = Math.min(sendEveryMs || Number.POSITIVE_INFINITY, expectEveryMs || Number.POSITIVE_INFINITY)
    if (every === Number.POSITIVE_INFINITY) return
    const grace = this.host.limits.heartbeatGrace
    this.#timer = setInterval(
      () => {
        const now = Date.now()
        if (expectEveryMs > 0 && now - this.#lastRead > expectEveryMs * grace && !this.output.paused) {
          this.host.logger.info({ connection: this.id }, 'stomp client missed its heart-beats')
          this.fail('heart-beat timeout: no data from the client')
          return
        }
        if (sendEveryMs > 0 && now - this.output.lastWrite >= sendEveryMs) {
          this.output.write(HEARTBEAT)
        }
      },
      Math.max(10, Math.floor(every / 2)),
    )
    this.#timer.unref()
  }

  get sendEveryMs(): number {
    return this.#sendEveryMs
  }

  get expectEveryMs(): number {
    return this.#expectEveryMs
  }

  #disconnect(frame: Frame): void {
    const receipt = frame.headers.get('receipt')
    this.#lifecycle.closing(this, 'client sent DISCONNECT')
    this.after(undefined, () => {
      if (receipt !== undefined) this.send('RECEIPT', [['receipt-id', receipt]])
      this.output.flush()
      this.#stream.end()
      this.#close()
    })
    // Nothing after DISCONNECT is handled.
    this.#disconnecting = true
    this.#next = this.#frames.length
  }

  #close(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    clearTimeout(this.#timer)
    void this.#subscriptions
      .stopAll()
      .then(() => this.broker.releaseOwner(this.id))
      .catch((error: unknown) => this.host.logger.warn({ err: error, connection: this.id }, 'stomp cleanup failed'))
      .finally(() => {
        this.#onClose(this)
        this.#cleanedUp()
      })
    if (!this.#stream.destroyed) setTimeout(() => this.#stream.destroy(), CLOSE_LINGER_MS).unref()
  }
}
