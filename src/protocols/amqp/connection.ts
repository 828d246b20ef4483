// One AMQP connection: the handshake (start → start-ok → tune → tune-ok → open), channel 0 methods,
// frame routing to channels, heartbeats, batched writes and back-pressure. Hard errors (and malformed
// frames) end in connection.close with the reply code; only this connection is affected.
import type net from 'node:net'
import type { Broker } from '../../broker/broker.js'
import type { Logger } from '../../util/logger.js'
import { AmqpChannel, type ChannelHost } from './channel.js'
import {
  type AmqpFrame,
  AmqpFrameParser,
  AmqpProtocolHeaderError,
  decodeFieldTable,
  decodeMethodFrame,
  encodeMethodFrame,
  type FieldTable,
  FRAME_HEARTBEAT,
  FRAME_MAX_FLOOR,
  FRAME_METHOD,
  HEARTBEAT_FRAME,
  type MethodInit,
  type MethodName,
  PROTOCOL_HEADER,
  ReplyCode,
} from './codec/index.js'
import { AmqpError, amqpError, replyText, toAmqpError } from './errors.js'

export const FRAME_MAX_OFFER = 131072
export const CHANNEL_MAX_OFFER = 2047
export const HEARTBEAT_OFFER_SECONDS = 60
/** Handshake must complete within this long (slowloris guard). */
const HANDSHAKE_MS = 10_000
/** After connection.close we wait this long for close-ok before dropping the socket. */
const CLOSE_OK_WAIT_MS = 1000
/** Pause reading while this many publishes await the broker (back-pressure instead of unbounded memory). */
export const PUBLISHES_INFLIGHT_MAX = 4096
/** Pause reading while this many bytes wait in the socket's write buffer. */
const WRITE_BUFFER_BYTES_MAX = 8 * 1024 * 1024
/** Pause reading while channels hold this many frames behind an unfinished async method. */
const BACKLOG_FRAMES_MAX = 10_000

export interface ServerState {
  readonly broker: Broker
  readonly logger: Logger
  readonly streamConsumers: Map<string, number>
  /** Memory alarm reason while publishers are blocked, else null. */
  blocked: string | null
  nextConnectionId(): string
  serverProperties(): FieldTable
  onClosed(connection: AmqpConnection): void
}

type Phase = 'header' | 'start-ok' | 'tune-ok' | 'open' | 'running' | 'closing' | 'closed'

export class AmqpConnection implements ChannelHost {
  readonly id: string
  readonly broker: Broker
  readonly logger: Logger
  readonly streamConsumers: Map<string, number>
  readonly #socket: net.Socket
  readonly #state: ServerState
  readonly #parser = new AmqpFrameParser({ frameMax: FRAME_MAX_FLOOR, expectProtocolHeader: true })
  #phase: Phase = 'header'
  frameMax = FRAME_MAX_FLOOR
  #channelMax = CHANNEL_MAX_OFFER
  heartbeatSeconds = 0
  consumerCancelNotify = false
  #blockedCapable = false
  #sentBlocked = false
  readonly #channels = new Map<number, AmqpChannel>()
  readonly #out: Buffer[] = []
  /** Callbacks waiting for the socket buffer to drain below WRITE_BUFFER_BYTES_MAX (no-ack settlement). */
  readonly #afterWrite: Array<() => void> = []
  #flushScheduled = false
  lastReceived = Date.now()
  lastSent = Date.now()
  readonly #openedAt = Date.now()
  /** From connection.start-ok, for the admin API (product, version, connection_name…). */
  clientProperties: FieldTable = {}
  /** The authenticated user name. */
  user: string | undefined
  #inflightPublishes = 0
  #paused = false
  /** Has published: such connections stop being read while the memory alarm is on (as RabbitMQ does). */
  #publisher = false
  #closeTimer: NodeJS.Timeout | null = null

  constructor(socket: net.Socket, state: ServerState) {
    this.#socket = socket
    this.#state = state
    this.broker = state.broker
    this.id = state.nextConnectionId()
    this.logger = state.logger.child({ connection: this.id })
    this.streamConsumers = state.streamConsumers
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('drain', () => {
      this.#runAfterWrite()
      this.#updatePause()
    })
    socket.on('error', (error) => this.logger.debug({ err: error }, 'amqp socket error'))
    socket.on('close', () => this.#closed())
  }

  /** False once connection.close is under way (either side): the admin API no longer lists it. */
  get isOpen(): boolean {
    return this.#phase !== 'closing' && this.#phase !== 'closed'
  }

  get connectedAt(): number {
    return this.#openedAt
  }

  get remoteAddress(): string {
    return `${this.#socket.remoteAddress ?? 'unknown'}:${this.#socket.remotePort ?? 0}`
  }

  /** Open channels as the admin API shows them. */
  describeChannels(): Array<ReturnType<AmqpChannel['describe']>> {
    const out: Array<ReturnType<AmqpChannel['describe']>> = []
    for (const ch of this.#channels.values()) if (!ch.closed) out.push(ch.describe())
    return out
  }

  get remoteIsLoopback(): boolean {
    const a = this.#socket.remoteAddress ?? ''
    return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1' || a.startsWith('127.')
  }

  // ---- output ----

  send(frames: Buffer | Buffer[]): void {
    if (this.#phase === 'closed') return
    if (Array.isArray(frames)) for (const f of frames) this.#out.push(f)
    else this.#out.push(frames)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.flush())
    }
  }

  sendMethod<N extends MethodName>(channel: number, name: N, args: MethodInit[N]): void {
    this.send(encodeMethodFrame(channel, name, args))
  }

  whenWritten(done: () => void): void {
    this.#afterWrite.push(done)
  }

  /** Writes everything queued in one corked burst. */
  flush(): void {
    this.#flushScheduled = false
    if (this.#out.length === 0 || this.#socket.destroyed) {
      this.#out.length = 0
      return
    }
    this.lastSent = Date.now()
    if (this.#out.length === 1) this.#socket.write(this.#out[0]!)
    else {
      this.#socket.cork()
      for (const b of this.#out) this.#socket.write(b)
      this.#socket.uncork()
    }
    this.#out.length = 0
    this.#runAfterWrite()
    this.#updatePause()
  }

  #runAfterWrite(): void {
    if (this.#afterWrite.length === 0 || this.#socket.writableLength > WRITE_BUFFER_BYTES_MAX) return
    const callbacks = this.#afterWrite.splice(0)
    for (const callback of callbacks) callback()
  }

  // ---- back-pressure ----

  publishStarted(): void {
    // Past the bound, stop reading: publishes without confirms would otherwise pile up without limit.
    if (++this.#inflightPublishes > PUBLISHES_INFLIGHT_MAX && !this.#paused) this.#updatePause()
    if (!this.#publisher) {
      this.#publisher = true
      // The first publish under an active alarm makes this a blocked publisher: stop reading now, not at
      // the next write (a publisher without confirms may never cause one).
      if (this.#state.blocked !== null) this.#updatePause()
    }
  }

  publishSettled(): void {
    this.#inflightPublishes--
    if (this.#paused) this.#updatePause()
  }

  #updatePause(): void {
    if (this.#socket.destroyed) return
    let backlog = 0
    for (const ch of this.#channels.values()) backlog += ch.backlogLength
    const over =
      this.#inflightPublishes > PUBLISHES_INFLIGHT_MAX ||
      this.#socket.writableLength > WRITE_BUFFER_BYTES_MAX ||
      backlog > BACKLOG_FRAMES_MAX ||
      (this.#state.blocked !== null && this.#publisher)
    if (over && !this.#paused) {
      this.#paused = true
      this.#socket.pause()
    } else if (!over && this.#paused) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  /** True while an alarm holds this connection back because it has published (the admin counts these). */
  get blockedPublisher(): boolean {
    return this.#state.blocked !== null && this.#publisher && this.isOpen
  }

  /** Memory alarm raised or cleared: connection.blocked/unblocked to clients that asked for it. */
  setBlocked(reason: string | null): void {
    if (this.#phase !== 'running') return
    if (this.#blockedCapable && (reason !== null) !== this.#sentBlocked) {
      this.#sentBlocked = reason !== null
      if (reason !== null) this.sendMethod(0, 'connection.blocked', { reason })
      else this.sendMethod(0, 'connection.unblocked', {})
    }
    this.#updatePause()
  }

  // ---- input ----

  #onData(chunk: Buffer): void {
    this.lastReceived = Date.now()
    let frames: AmqpFrame[]
    try {
      frames = this.#parser.push(chunk)
    } catch (error) {
      if (error instanceof AmqpProtocolHeaderError) {
        // Spec 4.2.2: answer a bad protocol header with ours and close, no connection.close.
        this.#phase = 'closed'
        this.#socket.end(PROTOCOL_HEADER)
        return
      }
      // A complete protocol header followed by a bad frame still gets a proper connection.close.
      if (this.#phase === 'header' && !this.#parser.awaitingProtocolHeader) this.#sendStart()
      this.fail(toAmqpError(error, 0, 0))
      this.flush()
      return
    }
    if (this.#phase === 'header' && !this.#parser.awaitingProtocolHeader) this.#sendStart()
    for (const frame of frames) {
      if (this.#phase === 'closed') break
      try {
        this.#frame(frame)
      } catch (error) {
        this.fail(toAmqpError(error, 0, 0))
      }
    }
    this.flush()
  }

  #sendStart(): void {
    this.#phase = 'start-ok'
    this.sendMethod(0, 'connection.start', {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: this.#state.serverProperties(),
      mechanisms: Buffer.from('PLAIN AMQPLAIN'),
      locales: Buffer.from('en_US'),
    })
  }

  #frame(frame: AmqpFrame): void {
    if (this.#phase === 'closing') {
      // After connection.close only close/close-ok matter (spec 2.2.4).
      if (frame.type === FRAME_METHOD && frame.channel === 0) {
        const method = decodeMethodFrame(frame.payload)
        if (method.name === 'connection.close-ok') this.#end()
        else if (method.name === 'connection.close') {
          this.sendMethod(0, 'connection.close-ok', {})
          this.flush()
          this.#end()
        }
      }
      return
    }
    if (frame.type === FRAME_HEARTBEAT) {
      if (frame.channel !== 0) throw amqpError.frameError('heartbeat frame on a non-zero channel')
      return
    }
    if (frame.channel === 0) {
      if (frame.type !== FRAME_METHOD) throw amqpError.unexpectedFrame('content frame on channel 0')
      this.#connectionMethod(frame)
      return
    }
    if (this.#phase !== 'running') throw amqpError.commandInvalid('channel frame before connection.open')
    let channel = this.#channels.get(frame.channel)
    if (channel?.closed) {
      this.#channels.delete(frame.channel)
      channel = undefined
    }
    if (channel === undefined) {
      this.#openChannel(frame)
      return
    }
    channel.handleFrame(frame)
    if (channel.backlogLength > 0) this.#updatePause()
  }

  #openChannel(frame: AmqpFrame): void {
    if (frame.type !== FRAME_METHOD) throw amqpError.channelError(`expected 'channel.open' on channel ${frame.channel}`)
    const method = decodeMethodFrame(frame.payload)
    if (method.name !== 'channel.open') {
      throw new AmqpError(
        ReplyCode.CHANNEL_ERROR,
        `expected 'channel.open' on channel ${frame.channel}`,
        method.classId,
        method.methodId,
      )
    }
    if (frame.channel > this.#channelMax) {
      throw new AmqpError(
        ReplyCode.NOT_ALLOWED,
        `channel number ${frame.channel} exceeds channel_max ${this.#channelMax}`,
        method.classId,
        method.methodId,
      )
    }
    this.#channels.set(frame.channel, new AmqpChannel(this, frame.channel))
    this.sendMethod(frame.channel, 'channel.open-ok', {})
  }

  #connectionMethod(frame: AmqpFrame): void {
    const method = decodeMethodFrame(frame.payload)
    const expect = (name: MethodName) => {
      if (method.name !== name)
        throw new AmqpError(
          ReplyCode.COMMAND_INVALID,
          `expected '${name}', got '${method.name}'`,
          method.classId,
          method.methodId,
        )
    }
    switch (this.#phase) {
      case 'start-ok': {
        expect('connection.start-ok')
        if (method.name !== 'connection.start-ok') return
        this.clientProperties = method.args.clientProperties
        const caps = method.args.clientProperties.capabilities
        if (
          caps &&
          typeof caps === 'object' &&
          !Array.isArray(caps) &&
          !(caps instanceof Date) &&
          !Buffer.isBuffer(caps)
        ) {
          const table = caps as FieldTable
          this.consumerCancelNotify = table.consumer_cancel_notify === true
          this.#blockedCapable = table['connection.blocked'] === true
        }
        this.#authenticate(method.args.mechanism, method.args.response)
        this.#phase = 'tune-ok'
        this.sendMethod(0, 'connection.tune', {
          channelMax: CHANNEL_MAX_OFFER,
          frameMax: FRAME_MAX_OFFER,
          heartbeat: HEARTBEAT_OFFER_SECONDS,
        })
        return
      }
      case 'tune-ok': {
        expect('connection.tune-ok')
        if (method.name !== 'connection.tune-ok') return
        const { frameMax, channelMax, heartbeat } = method.args
        if (frameMax !== 0 && frameMax < FRAME_MAX_FLOOR)
          throw new AmqpError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} < ${FRAME_MAX_FLOOR} min`, 10, 31)
        if (frameMax > FRAME_MAX_OFFER)
          throw new AmqpError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} > ${FRAME_MAX_OFFER} max`, 10, 31)
        if (channelMax > CHANNEL_MAX_OFFER)
          throw new AmqpError(ReplyCode.NOT_ALLOWED, `channel_max=${channelMax} > ${CHANNEL_MAX_OFFER} max`, 10, 31)
        this.frameMax = frameMax === 0 ? FRAME_MAX_OFFER : frameMax
        this.#channelMax = channelMax === 0 ? CHANNEL_MAX_OFFER : channelMax
        this.heartbeatSeconds = heartbeat
        this.#parser.setFrameMax(this.frameMax)
        this.#phase = 'open'
        return
      }
      case 'open': {
        expect('connection.open')
        if (method.name !== 'connection.open') return
        const vhost = method.args.virtualHost
        if (vhost !== '/' && vhost !== '')
          throw new AmqpError(ReplyCode.NOT_ALLOWED, `vhost ${vhost} not found`, 10, 40)
        this.#phase = 'running'
        this.sendMethod(0, 'connection.open-ok', {})
        if (this.#state.blocked !== null) this.setBlocked(this.#state.blocked)
        return
      }
      case 'running':
        switch (method.name) {
          case 'connection.close':
            this.sendMethod(0, 'connection.close-ok', {})
            this.flush()
            this.#end()
            return
          case 'connection.update-secret':
            this.sendMethod(0, 'connection.update-secret-ok', {})
            return
          case 'connection.blocked':
          case 'connection.unblocked':
          case 'connection.close-ok':
            return
          default:
            throw new AmqpError(
              ReplyCode.COMMAND_INVALID,
              `unexpected method ${method.name} on channel 0`,
              method.classId,
              method.methodId,
            )
        }
      default:
        throw amqpError.commandInvalid(`unexpected method ${method.name}`)
    }
  }

  /** guest/guest, from loopback only (RabbitMQ's default loopback_users). */
  #authenticate(mechanism: string, response: Buffer): void {
    let user: string | undefined
    let pass: string | undefined
    if (mechanism === 'PLAIN') {
      const parts = response.toString('utf8').split('\u0000')
      user = parts[1]
      pass = parts[2]
    } else if (mechanism === 'AMQPLAIN') {
      // A field table without its 4-byte length prefix.
      const withLength = Buffer.alloc(4 + response.length)
      withLength.writeUInt32BE(response.length, 0)
      response.copy(withLength, 4)
      const table = decodeFieldTable(withLength)
      user =
        typeof table.LOGIN === 'string'
          ? table.LOGIN
          : Buffer.isBuffer(table.LOGIN)
            ? table.LOGIN.toString()
            : undefined
      pass =
        typeof table.PASSWORD === 'string'
          ? table.PASSWORD
          : Buffer.isBuffer(table.PASSWORD)
            ? table.PASSWORD.toString()
            : undefined
    } else {
      throw new AmqpError(ReplyCode.ACCESS_REFUSED, `unsupported authentication mechanism '${mechanism}'`, 10, 11)
    }
    if (user !== 'guest' || pass !== 'guest' || !this.remoteIsLoopback) {
      throw new AmqpError(
        ReplyCode.ACCESS_REFUSED,
        `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
        10,
        11,
      )
    }
    this.user = user
  }

  // ---- errors and closing ----

  /** Hard error: connection.close with the reply, then wait briefly for close-ok. */
  fail(error: AmqpError): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return
    this.logger.debug({ code: error.replyCode, text: error.message }, 'amqp connection error')
    if (this.#phase === 'header') {
      this.#end()
      return
    }
    this.#phase = 'closing'
    this.#releaseChannels()
    this.send(
      encodeMethodFrame(0, 'connection.close', {
        replyCode: error.replyCode,
        replyText: replyText(error),
        classId: error.classId,
        methodId: error.methodId,
      }),
    )
    this.#closeTimer = setTimeout(() => this.#end(), CLOSE_OK_WAIT_MS)
    this.#closeTimer.unref()
  }

  /** Broker shutting down (or forced close). */
  forceClose(text: string): void {
    this.fail(new AmqpError(ReplyCode.CONNECTION_FORCED, text))
    this.flush()
  }

  #releaseChannels(): void {
    for (const ch of this.#channels.values()) ch.release()
    this.#channels.clear()
    void this.broker.releaseOwner(this.id).catch((error) => this.logger.warn({ err: error }, 'amqp release failed'))
  }

  #end(): void {
    if (this.#phase === 'closed') return
    this.flush()
    this.#phase = 'closed'
    this.#socket.end()
    setTimeout(() => this.#socket.destroy(), CLOSE_OK_WAIT_MS).unref()
  }

  #closed(): void {
    if (this.#closeTimer) clearTimeout(this.#closeTimer)
    this.#phase = 'closed'
    this.#out.length = 0
    // Leases not yet settled go back to their queues with the channels' owners.
    this.#afterWrite.length = 0
    this.#releaseChannels()
    this.#state.onClosed(this)
  }

  /** Called from the listener's shared tick: heartbeats and the handshake deadline. */
  tick(now: number): void {
    if (this.#phase === 'closed') return
    if (this.#phase !== 'running' && this.#phase !== 'closing' && now - this.#openedAt > HANDSHAKE_MS) {
      this.logger.debug('amqp handshake timeout')
      this.#socket.destroy()
      return
    }
    const interval = this.heartbeatSeconds * 1000
    if (interval === 0 || this.#phase !== 'running') return
    if (now - this.lastReceived > 2 * interval) {
      this.logger.warn({ heartbeat: this.heartbeatSeconds }, 'missed heartbeats from client, timeout')
      this.#socket.destroy()
      return
    }
    if (now - this.lastSent >= interval / 2) {
      this.send(HEARTBEAT_FRAME)
      this.flush()
    }
  }
}
