// One AMQP connection: the handshake (start → start-ok → tune → tune-ok → open), channel 0 methods,
// heartbeats, closing. Hard errors (and malformed frames) end in connection.close with the reply code; only
// this connection is affected. The handshake's decisions are in handshake.ts, authentication in login.ts,
// the channel table in channels.ts, batched writes and back-pressure in output.ts.
import type net from 'node:net'
import type { Broker } from '../../../broker/broker.js'
import type { CreditGroup } from '../../../broker/credit.js'
import type { Access } from '../../../broker/security/authorizer.js'
import type { Logger } from '../../../util/logger.js'
import { peerOf } from '../../common/connections.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import { isTls } from '../../common/tls.js'
import type { ChannelHost } from '../channel/channel.js'
import {
  type AmqpFrame,
  AmqpFrameParser,
  AmqpProtocolHeaderError,
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
} from '../codec/index.js'
import { AmqpError, amqpError, replyText, toAmqpError } from '../errors.js'
import { Channels } from './channels.js'
import { ContentBudget } from './content-budget.js'
import { acceptTune, checkVhost, clientCapabilities, startArgs, tuneOffer } from './handshake.js'
import { AmqpConnectionLog } from './lifecycle.js'
import { mechanismsFor, PendingLogin } from './login.js'
import { ConnectionOutput } from './output.js'
import type { Phase, ServerState } from './state.js'

/** Handshake must complete within this long (slowloris guard). */
const HANDSHAKE_MS = 10_000
/** After connection.close we wait this long for close-ok before dropping the socket. */
const CLOSE_OK_WAIT_MS = 1000

export class AmqpConnection implements ChannelHost {
  readonly id: string
  readonly broker: Broker
  readonly logger: Logger
  readonly streamConsumers: Map<string, number>
  readonly traffic: ProtocolTraffic
  readonly #socket: net.Socket
  readonly #state: ServerState
  readonly #parser = new AmqpFrameParser({ frameMax: FRAME_MAX_FLOOR, expectProtocolHeader: true })
  #phase: Phase = 'header'
  frameMax = FRAME_MAX_FLOOR
  heartbeatSeconds = 0
  consumerCancelNotify = false
  readonly #channels = new Channels(this)
  readonly #output: ConnectionOutput
  readonly contentBudget: ContentBudget
  lastReceived = Date.now()
  readonly #openedAt = Date.now()
  /** From connection.start-ok, for the admin API (product, version, connection_name…). */
  clientProperties: FieldTable = {}
  #access: Access | undefined
  readonly #login: PendingLogin
  readonly tls: boolean
  #closeTimer: NodeJS.Timeout | null = null
  readonly #log: AmqpConnectionLog
  readonly channelError: ChannelHost['channelError']

  constructor(socket: net.Socket, state: ServerState) {
    this.#socket = socket
    this.#state = state
    this.broker = state.broker
    this.id = state.nextConnectionId()
    this.logger = state.logger.child({ connection: this.id })
    this.#log = new AmqpConnectionLog(state.connections, this, this.logger)
    this.channelError = (channel, error) => this.#log.channelCloseSent(channel, error)
    this.streamConsumers = state.streamConsumers
    this.traffic = state.traffic
    this.tls = isTls(socket)
    this.contentBudget = new ContentBudget(state.limits.pendingBodyBytes)
    this.#output = new ConnectionOutput(socket, {
      server: state,
      phase: () => this.#phase,
      channelBacklog: () => this.#channels.backlog,
    })
    this.#login = new PendingLogin(this.#output)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => this.#log.socketError(error))
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
    return peerOf(this.#socket)
  }

  get channelCount(): number {
    return this.#channels.count
  }

  /** Open channels as the admin API shows them. */
  describeChannels(): ReturnType<Channels['describe']> {
    return this.#channels.describe()
  }

  /** The authenticated user name; undefined before authentication. */
  get user(): string | undefined {
    return this.#access?.principal.name
  }

  /** What the authenticated user may do; channels exist only after authentication. */
  get access(): Access {
    if (this.#access === undefined) throw new Error('amqp connection not authenticated')
    return this.#access
  }

  // ---- output and back-pressure (output.ts) ----

  send(frames: Buffer | Buffer[]): void {
    this.#output.send(frames)
  }

  sendMethod<N extends MethodName>(channel: number, name: N, args: MethodInit[N]): void {
    this.#output.sendMethod(channel, name, args)
  }

  whenWritten(done: () => void): void {
    this.#output.whenWritten(done)
  }

  get deliveryCredit(): CreditGroup {
    return this.#output.deliveryCredit
  }

  /** Writes everything queued in one corked burst. */
  flush(): void {
    this.#output.flush()
  }

  publishStarted(bytes: number): void {
    this.#output.publishStarted(bytes)
  }

  publishSettled(bytes: number): void {
    this.#output.publishSettled(bytes)
  }

  /** True while an alarm holds this connection back because it has published (the admin counts these). */
  get blockedPublisher(): boolean {
    return this.#output.blockedPublisher
  }

  /** Memory alarm raised or cleared: connection.blocked/unblocked to clients that asked for it. */
  setBlocked(reason: string | null): void {
    this.#output.setBlocked(reason)
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
        this.#log.badProtocolHeader(error)
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
    this.#handle(frames)
  }

  #handle(frames: AmqpFrame[]): void {
    for (const frame of frames) {
      if (this.#phase === 'closed') break
      if (this.#login.hold(frame)) continue
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
    this.sendMethod(0, 'connection.start', startArgs(this.#state.serverProperties(), mechanismsFor(this.#socket)))
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
    if (this.#channels.route(frame)) this.#output.updatePause()
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
        const caps = clientCapabilities(method.args.clientProperties)
        if (caps !== null) {
          this.consumerCancelNotify = caps.consumerCancelNotify
          this.#output.blockedCapable = caps.blockedCapable
        }
        this.#authenticate(method.args.mechanism, method.args.response)
        return
      }
      case 'tune-ok': {
        expect('connection.tune-ok')
        if (method.name !== 'connection.tune-ok') return
        const { frameMax, channelMax, heartbeat } = acceptTune(method.args)
        this.frameMax = frameMax
        this.#channels.max = channelMax
        this.heartbeatSeconds = heartbeat
        this.#parser.setFrameMax(this.frameMax)
        this.#phase = 'open'
        return
      }
      case 'open': {
        expect('connection.open')
        if (method.name !== 'connection.open') return
        checkVhost(method.args.virtualHost)
        this.#phase = 'running'
        this.sendMethod(0, 'connection.open-ok', {})
        this.#log.opened()
        if (this.#state.blocked !== null) this.setBlocked(this.#state.blocked)
        return
      }
      case 'running':
        switch (method.name) {
          case 'connection.close':
            this.#log.clientClosed(method.args.replyCode, method.args.replyText)
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

  /** start-ok's credentials, checked asynchronously; frames received meanwhile are handled afterwards. */
  #authenticate(mechanism: string, response: Buffer): void {
    this.#phase = 'authenticating'
    const attempt = { security: this.broker.security, logger: this.logger, protocol: 'amqp', socket: this.#socket }
    this.#login.begin({ ...attempt, mechanism, traffic: this.traffic }, response).then(
      (principal) => {
        if (this.#phase !== 'authenticating') return
        this.#access = this.broker.security.access(principal, this.#socket.remoteAddress)
        this.#phase = 'tune-ok'
        this.sendMethod(0, 'connection.tune', tuneOffer)
        this.#handle(this.#login.end())
        this.flush()
      },
      (error) => {
        if (this.#phase !== 'authenticating') return
        this.fail(toAmqpError(error, 10, 11))
        this.flush()
      },
    )
  }

  // ---- errors and closing ----

  /** Hard error: connection.close with the reply, then wait briefly for close-ok. */
  fail(error: AmqpError): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return
    this.#log.closeSent(error, this.#phase === 'authenticating')
    if (this.#phase === 'header') {
      this.#end()
      return
    }
    this.#phase = 'closing'
    // Closed while authenticating (shutdown, admin, a refused login): only close-ok matters now.
    this.#login.end()
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
    this.#channels.release()
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
    // Leases not yet settled (whenWritten callbacks dropped here) go back to their queues with the
    // channels' owners.
    this.#output.discard()
    this.#releaseChannels()
  }

  /** Called from the listener's shared tick: heartbeats and the handshake deadline. */
  tick(now: number): void {
    if (this.#phase === 'closed') return
    if (this.#phase !== 'running' && this.#phase !== 'closing' && now - this.#openedAt > HANDSHAKE_MS) {
      this.#log.handshakeTimeout(HANDSHAKE_MS)
      this.#socket.destroy()
      return
    }
    const interval = this.heartbeatSeconds * 1000
    if (interval === 0 || this.#phase !== 'running') return
    if (now - this.lastReceived > 2 * interval) {
      this.#log.missedHeartbeats(this.heartbeatSeconds)
      this.#socket.destroy()
      return
    }
    if (now - this.#output.lastSent >= interval / 2) {
      this.send(HEARTBEAT_FRAME)
      this.flush()
    }
  }
}
