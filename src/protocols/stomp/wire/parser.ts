// Bytes → frames, incrementally, within FrameLimits. A frame is `COMMAND EOL (name:value EOL)* EOL body NUL`
// with EOL `\n` or `\r\n`; EOLs between frames are heart-beats and skipped. A body is `content-length` bytes
// (binary-safe, then a NUL must follow) or everything up to the first NUL. Header values are unescaped per
// the negotiated version (never in CONNECT). Every violation throws StompFrameError, nothing else; memory
// held is bounded by the frame limit (the head is searched once per arrival, a body is joined once).
// The pending input is read in place from an offset (no slice per frame) and each header line is decoded
// straight from the bytes, since a read burst of small SENDs is the hot path of a publishing client.

import { unescapeValue } from './escape.js'
import { clientCommands, type Frame, type FrameLimits, StompFrameError, type StompVersion } from './frame.js'

const LF = 0x0a
const CR = 0x0d
const NUL = 0x00
const ZERO = 0x30
const NINE = 0x39
const EMPTY = Buffer.alloc(0)

interface Head {
  command: string
  headers: Map<string, string>
  headBytes: number
  length: number | null
}

export class FrameParser {
  readonly #limits: FrameLimits
  /** Escaping follows the version CONNECT negotiated; CONNECT itself is never escaped. */
  #version: StompVersion = '1.0'
  /** After a CONNECT, nothing more is parsed until its version is known (negotiated()). */
  #awaitingVersion = false
  /** Input received, oldest first; the first chunk is unconsumed from #offset on. */
  #chunks: Buffer[] = []
  #offset = 0
  /** Unconsumed bytes. */
  #bytes = 0
  /** The head of the frame whose body is being read; null while reading a head. */
  #head: Head | null = null
  /** Bytes of the pending input already searched for the end of a head or a NUL body. */
  #searched = 0
  /** Lines of an unfinished head counted so far, and where counting stopped (relative to the input). */
  #lines = 0
  #linesScanned = 0

  constructor(limits: FrameLimits) {
    this.#limits = limits
  }

  /** The version CONNECT settled: frames after it are parsed with its escaping. */
  negotiated(version: StompVersion): void {
    this.#version = version
    this.#awaitingVersion = false
  }

  /** Bytes held while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#bytes
  }

  /**
   * Feeds bytes; returns the frames they complete (none, one or many). Frames completed before a violation
   * are in `frames` (when given) when the error is thrown, so that they are handled before the ERROR.
   */
  push(chunk: Buffer, frames: Frame[] = []): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk)
      this.#bytes += chunk.length
    }
    for (;;) {
      if (this.#awaitingVersion) return frames
      const frame = this.#head === null ? this.#readHead() : this.#readBody()
      if (frame === undefined) return frames
      if (frame !== null) {
        frames.push(frame)
        if (frame.command === 'CONNECT' || frame.command === 'STOMP') this.#awaitingVersion = true
      }
    }
  }

  /** The pending input as one buffer from #offset on (the chunks are joined once and kept joined). */
  #joined(): Buffer {
    if (this.#chunks.length === 0) return EMPTY
    if (this.#chunks.length > 1) {
      const first = this.#chunks[0]!
      if (this.#offset > 0) this.#chunks[0] = first.subarray(this.#offset)
      this.#chunks = [Buffer.concat(this.#chunks, this.#bytes)]
      this.#offset = 0
    }
    return this.#chunks[0]!
  }

  #consume(n: number): void {
    this.#bytes -= n
    if (this.#bytes === 0) {
      this.#chunks = []
      this.#offset = 0
    } else this.#offset += n
    this.#searched = 0
    this.#lines = 0
    this.#linesScanned = 0
  }

  /** A head parsed (null: only heart-beat EOLs were consumed), or undefined when more input is needed. */
  #readHead(): null | undefined {
    const buf = this.#joined()
    const base = this.#offset
    const end = buf.length
    let at = base
    while (at < end && (buf[at] === LF || buf[at] === CR)) {
      if (buf[at] === CR && at + 1 < end && buf[at + 1] !== LF)
        throw new StompFrameError('a carriage return must be followed by a line feed')
      if (buf[at] === CR && at + 1 >= end) break
      at++
    }
    if (at > base) {
      this.#consume(at - base)
      return null
    }
    const found = this.#headEnd(buf, base)
    if (found === -1) {
      this.#checkPartialHead(buf, base)
      return undefined
    }
    const limits = this.#limits
    const headBytes = found.headEnd - base
    if (headBytes > limits.frameBytesMax)
      throw new StompFrameError(`frame too large (at most ${limits.frameBytesMax} bytes)`)
    // The head is decoded once; its lines are sliced from the text (a slice shares the decoded string).
    const text = buf.toString('utf8', base, found.lineEnd)
    let lf = text.indexOf('\n')
    if (lf === -1) lf = text.length
    const command = stripCr(text, 0, lf)
    if (!clientCommands.has(command)) throw new StompFrameError(`unknown command '${truncate(command)}'`)
    const escaped = command !== 'CONNECT' && command !== 'STOMP' && this.#version !== '1.0'
    const headers = new Map<string, string>()
    let count = 0
    for (let start = lf + 1; start <= text.length; start = lf + 1) {
      lf = text.indexOf('\n', start)
      if (lf === -1) lf = text.length
      if (++count > limits.headersMax) throw new StompFrameError(`too many headers (at most ${limits.headersMax})`)
      const line = stripCr(text, start, lf)
      if (line.length > limits.headerBytesMax && Buffer.byteLength(line) > limits.headerBytesMax)
        throw new StompFrameError(`header line too long (at most ${limits.headerBytesMax} bytes)`)
      const colon = line.indexOf(':')
      if (colon <= 0) throw new StompFrameError(`malformed header line '${truncate(line)}'`)
      const rawName = line.slice(0, colon)
      const name = escaped ? unescapeValue(rawName, this.#version) : rawName
      if (headers.has(name)) continue
      const rawValue = line.slice(colon + 1)
      headers.set(name, escaped ? unescapeValue(rawValue, this.#version) : rawValue)
    }
    let length: number | null = null
    const declared = headers.get('content-length')
    if (declared !== undefined) {
      length = contentLength(declared)
      this.#checkBody(length)
      if (headBytes + length + 1 > limits.frameBytesMax)
        throw new StompFrameError(`frame too large (at most ${limits.frameBytesMax} bytes)`)
    }
    this.#head = { command, headers, headBytes, length }
    this.#consume(headBytes)
    return null
  }

  /**
   * End of the head (absolute): the index after its blank line, and the LF ending its last header line; -1
   * if not there yet.
   */
  #headEnd(buf: Buffer, base: number): { headEnd: number; lineEnd: number } | -1 {
    const end = buf.length
    let from = base + Math.max(0, this.#searched - 1)
    for (;;) {
      const lf = buf.indexOf(LF, from)
      if (lf === -1) {
        this.#searched = end - base
        return -1
      }
      const next = lf + 1
      if (next < end && buf[next] === LF) return { headEnd: next + 1, lineEnd: lf }
      if (next + 1 < end && buf[next] === CR && buf[next + 1] === LF) return { headEnd: next + 2, lineEnd: lf }
      if (next >= end || (buf[next] === CR && next + 1 >= end)) {
        this.#searched = lf - base
        return -1
      }
      from = next
    }
  }

  /** An unfinished head must not outgrow a frame, nor have a line longer than a header may be. */
  #checkPartialHead(buf: Buffer, base: number): void {
    const limits = this.#limits
    const end = buf.length
    if (end - base > limits.frameBytesMax)
      throw new StompFrameError(`frame too large (at most ${limits.frameBytesMax} bytes)`)
    const lastLf = buf.lastIndexOf(LF)
    if (end - Math.max(lastLf + 1, base) > limits.headerBytesMax)
      throw new StompFrameError(`header line too long (at most ${limits.headerBytesMax} bytes)`)
    // Complete lines of the unfinished head, each looked at once as it arrives: counted and measured.
    let from = base + this.#linesScanned
    while (from < end) {
      const lf = buf.indexOf(LF, from)
      if (lf === -1) break
      if (lf - from > limits.headerBytesMax)
        throw new StompFrameError(`header line too long (at most ${limits.headerBytesMax} bytes)`)
      this.#lines++
      from = lf + 1
    }
    this.#linesScanned = from - base
    if (this.#lines - 1 > limits.headersMax)
      throw new StompFrameError(`too many headers (at most ${limits.headersMax})`)
  }

  #checkBody(length: number): void {
    if (length > this.#limits.bodyBytesMax)
      throw new StompFrameError(`body too large (at most ${this.#limits.bodyBytesMax} bytes)`)
  }

  /** The frame once its body is complete, or undefined when more input is needed. */
  #readBody(): Frame | undefined {
    const head = this.#head!
    let bodyEnd: number
    if (head.length !== null) {
      if (this.#bytes < head.length + 1) return undefined
      bodyEnd = head.length
      if (this.#joined()[this.#offset + bodyEnd] !== NUL)
        throw new StompFrameError('frame not terminated by NUL after content-length')
    } else {
      bodyEnd = this.#findNul()
      if (bodyEnd === -1) {
        this.#checkBody(this.#bytes)
        if (head.headBytes + this.#bytes > this.#limits.frameBytesMax)
          throw new StompFrameError(`frame too large (at most ${this.#limits.frameBytesMax} bytes)`)
        return undefined
      }
      this.#checkBody(bodyEnd)
    }
    const buf = this.#joined()
    let body = EMPTY
    if (bodyEnd > 0) {
      // The body is copied out so that the socket's read buffer is not pinned by a stored message.
      body = Buffer.allocUnsafe(bodyEnd)
      buf.copy(body, 0, this.#offset, this.#offset + bodyEnd)
    }
    this.#consume(bodyEnd + 1)
    this.#head = null
    return { command: head.command, headers: head.headers, body }
  }

  /** Offset of the NUL ending a body in the pending input, searching each byte once; -1 if none yet. */
  #findNul(): number {
    let base = -this.#offset
    for (const chunk of this.#chunks) {
      const from = Math.max(0, this.#searched - base)
      if (from < chunk.length) {
        const at = chunk.indexOf(NUL, from)
        if (at !== -1) return base + at
      }
      base += chunk.length
    }
    this.#searched = base
    return -1
  }
}

/** The line [start, end) of the text, without its trailing CR. */
function stripCr(text: string, start: number, end: number): string {
  return end > start && text.charCodeAt(end - 1) === CR ? text.slice(start, end - 1) : text.slice(start, end)
}

/** A `content-length` value: 1 to 15 decimal digits (surrounding blanks tolerated). */
function contentLength(text: string): number {
  let n = 0
  if (text.length > 0 && text.length <= 15) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c < ZERO || c > NINE) {
        n = -1
        break
      }
      n = n * 10 + (c - ZERO)
    }
    if (n >= 0) return n
  }
  const trimmed = text.trim()
  if (!/^\d{1,15}$/.test(trimmed)) throw new StompFrameError(`invalid content-length '${truncate(text)}'`)
  return Number(trimmed)
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text
}
