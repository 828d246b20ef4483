// What an AMQP connection writes and when it stops reading. Output: frames queued in one tick go out in one
// corked burst; whenWritten callbacks (no-ack settlement) run once the socket buffer is below the bound.
// Back-pressure: the socket is paused while too many publishes await the broker, the write buffer is full,
// channels hold too many frames behind unfinished async methods, or an alarm blocks a publishing connection
// (connection.blocked/unblocked to clients that asked for it).
import type net from 'node:net'
import { encodeMethodFrame, type MethodInit, type MethodName } from '../codec/index.js'
import type { Phase, ServerState } from './connection.js'

/**
 * Pause reading while this many publishes await the broker (back-pressure instead of unbounded memory).
 * Also the connection's share of the young heap: with 4096 in flight the live set made every scavenge copy
 * and promote megabytes; 512 still fills group commits and gave 10% more e2e msg/s (persistent and transient).
 */
export const PUBLISHES_INFLIGHT_MAX = 512
/** Pause reading while this many bytes wait in the socket's write buffer. */
const WRITE_BUFFER_BYTES_MAX = 8 * 1024 * 1024
/** Pause reading while channels hold this many frames behind an unfinished async method. */
const BACKLOG_FRAMES_MAX = 10_000
/**
 * A tick's frames up to this size are copied into one buffer and written at once: a delivery is three
 * buffers (frames prefix, body, frame end), and a stream write per buffer costs far more than the copy.
 * Larger bursts (big bodies) are written by reference through cork/uncork.
 */
const CONCAT_BYTES_MAX = 256 * 1024

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
  readonly #out: Buffer[] = []
  /** Callbacks waiting for the socket buffer to drain below WRITE_BUFFER_BYTES_MAX (no-ack settlement). */
  readonly #afterWrite: Array<() => void> = []
  #flushScheduled = false
  lastSent = Date.now()
  /** The client announced the connection.blocked capability. */
  blockedCapable = false
  #sentBlocked = false
  #inflightPublishes = 0
  #paused = false
  /** Has published: such connections stop being read while the memory alarm is on (as RabbitMQ does). */
  #publisher = false

  constructor(socket: net.Socket, host: OutputHost) {
    this.#socket = socket
    this.#host = host
  }

  // ---- output ----

  send(frames: Buffer | Buffer[]): void {
    if (this.#host.phase() === 'closed') return
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
    const out = this.#out
    let bytes = 0
    for (const b of out) bytes += b.length
    if (out.length === 1) this.#socket.write(out[0]!)
    else if (bytes <= CONCAT_BYTES_MAX) this.#socket.write(Buffer.concat(out, bytes))
    else {
      this.#socket.cork()
      for (const b of out) this.#socket.write(b)
      this.#socket.uncork()
    }
    this.#out.length = 0
    this.#runAfterWrite()
    this.updatePause()
  }

  /** The socket's write buffer drained. */
  drained(): void {
    this.#runAfterWrite()
    this.updatePause()
  }

  /** The socket closed: nothing queued will be written, and no callback waits for it. */
  discard(): void {
    this.#out.length = 0
    this.#afterWrite.length = 0
  }

  #runAfterWrite(): void {
    if (this.#afterWrite.length === 0 || this.#socket.writableLength > WRITE_BUFFER_BYTES_MAX) return
    const callbacks = this.#afterWrite.splice(0)
    for (const callback of callbacks) callback()
  }

  // ---- back-pressure ----

  publishStarted(): void {
    // Past the bound, stop reading: publishes without confirms would otherwise pile up without limit.
    if (++this.#inflightPublishes > PUBLISHES_INFLIGHT_MAX && !this.#paused) this.updatePause()
    if (!this.#publisher) {
      this.#publisher = true
      // The first publish under an active alarm makes this a blocked publisher: stop reading now, not at
      // the next write (a publisher without confirms may never cause one).
      if (this.#host.server.blocked !== null) this.updatePause()
    }
  }

  publishSettled(): void {
    this.#inflightPublishes--
    if (this.#paused) this.updatePause()
  }

  updatePause(): void {
    if (this.#socket.destroyed) return
    const over =
      this.#inflightPublishes > PUBLISHES_INFLIGHT_MAX ||
      this.#socket.writableLength > WRITE_BUFFER_BYTES_MAX ||
      this.#host.channelBacklog() > BACKLOG_FRAMES_MAX ||
      (this.#host.server.blocked !== null && this.#publisher)
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
