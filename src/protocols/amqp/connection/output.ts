// What an AMQP connection writes and when it stops reading, over the common SocketOutput: frames of one loop
// turn go out in one burst, whenWritten callbacks (no-ack settlement) run below the write bound, and reading
// pauses for inflight publishes, a full write buffer, channel backlog, or an alarm on a publishing
// connection (connection.blocked/unblocked to clients that asked for it). Deliveries stop while the peer does
// not take what was written (credit flow to the socket): the connection's delivery credit is held above a
// byte bound and resumed once the socket drains, so undelivered messages stay ready in their queues.
import type net from 'node:net'
import { CreditGroup } from '../../../broker/credit.js'
import { Pause, SocketOutput } from '../../common/socket-output.js'
import { encodeMethodFrame, type MethodInit, type MethodName } from '../codec/index.js'
import type { Phase, ServerState } from './state.js'

/**
 * Pause reading while this many publishes await the broker (back-pressure instead of unbounded memory).
 * Also the connection's share of the young heap: a larger window keeps more publishes alive across
 * scavenges, which copy and promote them; this one still fills group commits.
 */
export const PUBLISHES_INFLIGHT_MAX = 512
/** Pause reading while this many bytes wait in the socket's write buffer. */
const WRITE_BUFFER_BYTES_MAX = 8 * 1024 * 1024
/** Pause reading while channels hold this many frames behind an unfinished async method. */
const BACKLOG_FRAMES_MAX = 10_000
/**
 * A burst up to this size is copied into one buffer and written at once: a delivery is three buffers
 * (frames prefix, body, frame end), and a stream write per buffer costs far more than the copy. Larger
 * bursts (big bodies) are written by reference under cork.
 */
const CONCAT_BYTES_MAX = 256 * 1024

/** The reasons this output decides itself; `write` is the socket output's own. */
const OWN_REASONS = Pause.inflight | Pause.backlog | Pause.alarm

/** What the output reads from its connection. */
export interface OutputHost {
  readonly server: ServerState
  phase(): Phase
  /** Frames all channels hold behind unfinished async methods. */
  channelBacklog(): number
}

export class ConnectionOutput {
  readonly #socket: net.Socket
  readonly #host: OutputHost
  readonly #out: SocketOutput
  /** The client announced the connection.blocked capability. */
  blockedCapable = false
  #sentBlocked = false
  #inflightPublishes = 0
  /** Body bytes of those publishes; reading also pauses over the listener's publishInflightBytes. */
  #inflightBytes = 0
  readonly #inflightBytesMax: number
  /**
   * The parent of every consumer's credit on this connection: held while more than the delivery bound waits
   * for the peer (queued here or in the socket's write buffer).
   */
  readonly deliveryCredit = new CreditGroup(0)
  readonly #deliveryBytesMax: number
  /** Has published: such connections stop being read while the memory alarm is on (as RabbitMQ does). */
  #publisher = false

  constructor(socket: net.Socket, host: OutputHost) {
    this.#socket = socket
    this.#host = host
    this.#deliveryBytesMax = host.server.limits.deliveryBufferBytes
    this.#inflightBytesMax = host.server.limits.publishInflightBytes
    const update = () => this.updatePause()
    this.#out = new SocketOutput(socket, {
      flushOn: 'immediate',
      concatBytesMax: CONCAT_BYTES_MAX,
      writeBufferBytesMax: WRITE_BUFFER_BYTES_MAX,
      onDrain: update,
      onFlush: update,
    })
  }

  /** When the last burst was written (heartbeats). */
  get lastSent(): number {
    return this.#out.lastWrite
  }

  // ---- output ----

  send(frames: Buffer | Buffer[]): void {
    if (this.#host.phase() === 'closed') return
    if (Array.isArray(frames)) this.#out.writeAll(frames)
    else this.#out.write(frames)
    // Checked at every write, not only after a flush: the next drain of any queue already finds the credit held.
    if (this.#out.bufferedBytes > this.#deliveryBytesMax) this.deliveryCredit.hold()
  }

  sendMethod<N extends MethodName>(channel: number, name: N, args: MethodInit[N]): void {
    this.send(encodeMethodFrame(channel, name, args))
  }

  whenWritten(done: () => void): void {
    this.#out.whenWritten(done)
  }

  /** Writes everything queued in one burst. */
  flush(): void {
    this.#out.flush()
  }

  /** The socket closed: nothing queued will be written, and no callback waits for it. */
  discard(): void {
    this.#out.close()
  }

  // ---- back-pressure ----

  /** Stops reading while received input waits to be handled (the handshake's authentication). */
  holdInput(): void {
    this.#out.hold('input')
  }

  releaseInput(): void {
    if (!this.#socket.destroyed) this.#out.release('input')
  }

  publishStarted(bytes: number): void {
    this.#host.server.traffic.received(1, bytes)
    // Past the bounds, stop reading: publishes without confirms would otherwise pile up without limit.
    this.#inflightBytes += bytes
    if (this.#overInflight(++this.#inflightPublishes) && !this.#out.paused) this.updatePause()
    if (!this.#publisher) {
      this.#publisher = true
      // The first publish under an active alarm makes this a blocked publisher: stop reading now, not at
      // the next write (a publisher without confirms may never cause one).
      if (this.#host.server.blocked !== null) this.updatePause()
    }
  }

  publishSettled(bytes: number): void {
    this.#inflightPublishes--
    this.#inflightBytes -= bytes
    if (this.#out.paused) this.updatePause()
  }

  #overInflight(publishes: number): boolean {
    return publishes > PUBLISHES_INFLIGHT_MAX || this.#inflightBytes > this.#inflightBytesMax
  }

  updatePause(): void {
    if (this.#socket.destroyed) return
    if (this.deliveryCredit.held && this.#out.bufferedBytes <= this.#deliveryBytesMax) this.deliveryCredit.resume()
    let held = 0
    if (this.#overInflight(this.#inflightPublishes)) held |= Pause.inflight
    if (this.#host.channelBacklog() > BACKLOG_FRAMES_MAX) held |= Pause.backlog
    if (this.#host.server.blocked !== null && this.#publisher) held |= Pause.alarm
    this.#out.holdOnly(OWN_REASONS, held)
  }

  /** True while an alarm holds this connection back because it has published (the admin counts these). */
  get blockedPublisher(): boolean {
    const phase = this.#host.phase()
    return this.#host.server.blocked !== null && this.#publisher && phase !== 'closing' && phase !== 'closed'
  }

  /** Memory alarm raised or cleared: connection.blocked/unblocked to clients that asked for it. */
  setBlocked(reason: string | null): void {
    if (this.#host.phase() !== 'running') return
    if (this.blockedCapable && (reason !== null) !== this.#sentBlocked) {
      this.#sentBlocked = reason !== null
      if (reason !== null) this.sendMethod(0, 'connection.blocked', { reason })
      else this.sendMethod(0, 'connection.unblocked', {})
    }
    this.updatePause()
  }
}
