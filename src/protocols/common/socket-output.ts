// The one write path and read gate of a client connection (TCP or WebSocket stream), for every protocol:
// writes queued in one turn go out as one burst — copied into one buffer up to a size, written by reference
// under cork beyond it — callbacks wait for the write buffer to drain, and reading pauses for named reasons
// and resumes only once no reason is held. Each protocol decides when its own reasons hold.
import type { Duplex } from 'node:stream'

/** Why reading is paused; each is one bit of the held set. */
export const Pause = {
  /** Decoded input waits to be handled. */
  input: 1,
  /** The socket's write buffer is over its bound: the peer does not read what we write. */
  write: 2,
  /** Other connections' subscribers are congested (publisher flow control). */
  flow: 4,
  /** Too many requests or publishes await the broker. */
  inflight: 8,
  /** Too many frames wait behind unfinished work. */
  backlog: 16,
  /** A resource alarm holds publishers back. */
  alarm: 32,
  /** The client is over a quota: it is not read until its throttle time has passed. */
  quota: 64,
} as const
export type PauseReason = keyof typeof Pause

const reasonNames = Object.keys(Pause) as PauseReason[]

export interface SocketOutputOptions {
  /**
   * When a burst goes out unless the owner flushes first: at the end of the tick, or at setImmediate (which
   * also gathers what I/O callbacks of the same loop turn write).
   */
  flushOn: 'tick' | 'immediate'
  /** A burst up to this many bytes is copied into one buffer and written at once; 0: always by reference. */
  concatBytesMax: number
  /** Write-buffer bytes beyond which reading pauses (`write`) until the socket drains. */
  writeBufferBytesMax: number
  /** After the socket drained (the `write` reason is released by then). */
  onDrain?: () => void
  /** After a burst was written (the protocol may re-check its reasons). */
  onFlush?: () => void
}

export class SocketOutput {
  readonly #stream: Duplex
  readonly #flushOn: 'tick' | 'immediate'
  readonly #concatBytesMax: number
  readonly #writeBufferBytesMax: number
  readonly #onFlush: (() => void) | undefined
  readonly #out: Buffer[] = []
  #outBytes = 0
  #scheduled = false
  /** Callbacks waiting for the write buffer to drain below its bound. */
  readonly #afterWrite: Array<() => void> = []
  #held = 0
  #closed = false
  /** When the last burst was written (heartbeats). */
  lastWrite = Date.now()
  readonly #flush = () => this.flush()

  constructor(stream: Duplex, options: SocketOutputOptions) {
    this.#stream = stream
    this.#flushOn = options.flushOn
    this.#concatBytesMax = options.concatBytesMax
    this.#writeBufferBytesMax = options.writeBufferBytesMax
    this.#onFlush = options.onFlush
    const onDrain = options.onDrain
    stream.on('drain', () => {
      this.#runAfterWrite()
      this.release('write')
      onDrain?.()
    })
  }

  // ---- writing ----

  write(bytes: Buffer): void {
    this.#out.push(bytes)
    this.#outBytes += bytes.length
    if (!this.#scheduled) this.#schedule()
  }

  writeAll(chunks: readonly Buffer[]): void {
    for (const b of chunks) {
      this.#out.push(b)
      this.#outBytes += b.length
    }
    if (!this.#scheduled) this.#schedule()
  }

  #schedule(): void {
    this.#scheduled = true
    if (this.#flushOn === 'tick') process.nextTick(this.#flush)
    else setImmediate(this.#flush)
  }

  /** Bytes queued here or in the socket's write buffer: what the peer has yet to take. */
  get bufferedBytes(): number {
    return this.#outBytes + this.#stream.writableLength
  }

  /** Writes the queued burst now. */
  flush(): void {
    this.#scheduled = false
    const out = this.#out
    if (out.length === 0) return
    const stream = this.#stream
    if (stream.destroyed || this.#closed) {
      out.length = 0
      this.#outBytes = 0
      return
    }
    this.lastWrite = Date.now()
    const bytes = this.#outBytes
    if (out.length === 1) stream.write(out[0]!)
    else if (bytes <= this.#concatBytesMax) stream.write(Buffer.concat(out, bytes))
    else {
      stream.cork()
      for (const b of out) stream.write(b)
      stream.uncork()
    }
    out.length = 0
    this.#outBytes = 0
    this.#runAfterWrite()
    if (stream.writableLength > this.#writeBufferBytesMax) this.hold('write')
    this.#onFlush?.()
  }

  /** Runs `done` once what was written so far is below the write-buffer bound (at once if it is). */
  whenWritten(done: () => void): void {
    this.#afterWrite.push(done)
  }

  #runAfterWrite(): void {
    if (this.#afterWrite.length === 0 || this.#stream.writableLength > this.#writeBufferBytesMax) return
    const callbacks = this.#afterWrite.splice(0)
    for (const callback of callbacks) callback()
  }

  /** The connection is closing: nothing queued or written later goes out, no callback waits, reading stays as it is. */
  close(): void {
    this.#closed = true
    this.#out.length = 0
    this.#outBytes = 0
    this.#afterWrite.length = 0
  }

  // ---- the read gate ----

  hold(reason: PauseReason): void {
    this.#set(this.#held | Pause[reason])
  }

  release(reason: PauseReason): void {
    if ((this.#held & Pause[reason]) !== 0) this.#set(this.#held & ~Pause[reason])
  }

  /** Sets the reasons in `mask` to exactly those in `held` (a protocol re-checking several at once). */
  holdOnly(mask: number, held: number): void {
    this.#set((this.#held & ~mask) | (held & mask))
  }

  /** Reading is paused for some reason. */
  get paused(): boolean {
    return this.#held !== 0
  }

  isHeld(reason: PauseReason): boolean {
    return (this.#held & Pause[reason]) !== 0
  }

  /** The reasons reading is paused for (empty while reading). */
  get pausedFor(): PauseReason[] {
    return reasonNames.filter((r) => (this.#held & Pause[r]) !== 0)
  }

  #set(held: number): void {
    const was = this.#held
    this.#held = held
    if (this.#closed || this.#stream.destroyed) return
    if (was === 0 && held !== 0) this.#stream.pause()
    else if (was !== 0 && held === 0) this.#stream.resume()
  }
}
