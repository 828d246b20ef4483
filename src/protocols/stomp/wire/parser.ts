// Bytes → frames, incrementally, within FrameLimits. A frame is `COMMAND EOL (name:value EOL)* EOL body NUL`
// with EOL `\n` or `\r\n`; EOLs between frames are heart-beats and skipped. A body is `content-length` bytes
// (binary-safe, then a NUL must follow) or everything up to the first NUL. Header values are unescaped per
// the negotiated version (never in CONNECT). Every violation throws StompFrameError, nothing else; memory
// held is bounded by the frame limit (the head is searched once per arrival, a body is joined once).

import { unescapeValue } from './escape.js'
import { clientCommands, type Frame, type FrameLimits, StompFrameError, type StompVersion } from './frame.js'

const LF = 0x0a
const CR = 0x0d
const NUL = 0x00
const EMPTY = Buffer.alloc(0)

export class FrameParser {
  readonly #limits: FrameLimits
  /** Escaping follows the version CONNECT negotiated; CONNECT itself is never escaped. */
  #version: StompVersion = '1.0'
  /** After a CONNECT, nothing more is parsed until its version is known (negotiated()). */
  #awaitingVersion = false
  /** Unconsumed input, oldest first. */
  #chunks: Buffer[] = []
  #bytes = 0
  /** The head of the frame whose body is being read; null while reading a head. */
  #head: { command: string; headers: Map<string, string>; headBytes: number; length: number | null } | null = null
  /** Bytes of the pending input already searched for the end of a head or a NUL body. */
  #searched = 0
  /** Lines of an unfinished head counted so far, and where counting stopped. */
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

  /** The pending input as one buffer (the chunks are joined once and kept joined). */
  #joined(): Buffer {
    if (this.#chunks.length === 0) return EMPTY
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#bytes)]
    return this.#chunks[0]!
  }

  #consume(n: number): void {
    const buf = this.#joined().subarray(n)
    this.#chunks = buf.length === 0 ? [] : [buf]
    this.#bytes = buf.length
    this.#searched = 0
    this.#lines = 0
    this.#linesScanned = 0
  }

  /** A head parsed (null: only heart-beat EOLs were consumed), or undefined when more input is needed. */
  #readHead(): null | undefined {
    const buf = this.#joined()
    let start = 0
    while (start < buf.length && (buf[start] === LF || buf[start] === CR)) {
      if (buf[start] === CR && start + 1 < buf.length && buf[start + 1] !== LF)
        throw new StompFrameError('a carriage return must be followed by a line feed')
      if (buf[start] === CR && start + 1 >= buf.length) break
      start++
    }
    if (start > 0) {
      this.#consume(start)
      return null
    }
    const end = this.#headEnd(buf)
    if (end === -1) {
      this.#checkPartialHead(buf)
      return undefined
    }
    const headBytes = end.headEnd
    if (headBytes > this.#limits.frameBytesMax)
      throw new StompFrameError(`frame too large (at most ${this.#limits.frameBytesMax} bytes)`)
    const lines = buf.toString('utf8', 0, end.lineEnd).split('\n')
    const command = stripCr(lines[0]!)
    if (!clientCommands.has(command)) throw new StompFrameError(`unknown command '${truncate(command)}'`)
    if (lines.length - 1 > this.#limits.headersMax)
      throw new StompFrameError(`too many headers (at most ${this.#limits.headersMax})`)
    const escaped = command !== 'CONNECT' && command !== 'STOMP' && this.#version !== '1.0'
    const headers = new Map<string, string>()
    for (let i = 1; i < lines.length; i++) {
      const line = stripCr(lines[i]!)
      if (line.length > this.#limits.headerBytesMax && Buffer.byteLength(line) > this.#limits.headerBytesMax)
        throw new StompFrameError(`header line too long (at most ${this.#limits.headerBytesMax} bytes)`)
      const colon = line.indexOf(':')
      if (colon <= 0) throw new StompFrameError(`malformed header line '${truncate(line)}'`)
      const rawName = line.slice(0, colon)
      const rawValue = line.slice(colon + 1)
      const name = escaped ? unescapeValue(rawName, this.#version) : rawName
      if (headers.has(name)) continue
      headers.set(name, escaped ? unescapeValue(rawValue, this.#version) : rawValue)
    }
    let length: number | null = null
    const declared = headers.get('content-length')
    if (declared !== undefined) {
      if (!/^\d{1,15}$/.test(declared.trim()))
        throw new StompFrameError(`invalid content-length '${truncate(declared)}'`)
      length = Number(declared.trim())
      this.#checkBody(length)
      if (headBytes + length + 1 > this.#limits.frameBytesMax)
        throw new StompFrameError(`frame too large (at most ${this.#limits.frameBytesMax} bytes)`)
    }
    this.#head = { command, headers, headBytes, length }
    this.#consume(headBytes)
    return null
  }

  /** End of the head: the index after its blank line, and where the last header line ends; -1 if not there. */
  #headEnd(buf: Buffer): { headEnd: number; lineEnd: number } | -1 {
    let from = Math.max(0, this.#searched - 1)
    for (;;) {
      const lf = buf.indexOf(LF, from)
      if (lf === -1) {
        this.#searched = buf.length
        return -1
      }
      const next = lf + 1
      if (next < buf.length && buf[next] === LF) return { headEnd: next + 1, lineEnd: lf }
      if (next + 1 < buf.length && buf[next] === CR && buf[next + 1] === LF) return { headEnd: next + 2, lineEnd: lf }
      if (next >= buf.length || (buf[next] === CR && next + 1 >= buf.length)) {
        this.#searched = lf
        return -1
      }
      from = next
    }
  }

  /** An unfinished head must not outgrow a frame, nor have a line longer than a header may be. */
  #checkPartialHead(buf: Buffer): void {
    const limits = this.#limits
    if (buf.length > limits.frameBytesMax)
      throw new StompFrameError(`frame too large (at most ${limits.frameBytesMax} bytes)`)
    const lastLf = buf.lastIndexOf(LF)
    if (buf.length - (lastLf + 1) > limits.headerBytesMax)
      throw new StompFrameError(`header line too long (at most ${limits.headerBytesMax} bytes)`)
    // Complete lines of the unfinished head, each looked at once as it arrives: counted and measured.
    let from = this.#linesScanned
    while (from < buf.length) {
      const lf = buf.indexOf(LF, from)
      if (lf === -1) break
      if (lf - from > limits.headerBytesMax)
        throw new StompFrameError(`header line too long (at most ${limits.headerBytesMax} bytes)`)
      this.#lines++
      from = lf + 1
    }
    this.#linesScanned = from
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
      if (this.#joined()[bodyEnd] !== NUL) throw new StompFrameError('frame not terminated by NUL after content-length')
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
    // The body is copied out so that the socket's read buffer is not pinned by a stored message.
    const body = bodyEnd === 0 ? EMPTY : Buffer.from(buf.subarray(0, bodyEnd))
    this.#consume(bodyEnd + 1)
    this.#head = null
    return { command: head.command, headers: head.headers, body }
  }

  /** Offset of the NUL ending a body in the pending input, searching each byte once; -1 if none yet. */
  #findNul(): number {
    let base = 0
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

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text
}
