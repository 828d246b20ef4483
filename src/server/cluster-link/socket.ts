// One cluster link connection, either side: frames in and out over a socket, with the reader's bound.
import type { Socket } from 'node:net'
import { encodeFrame, FrameReader } from './frames.js'

export class LinkSocket {
  readonly socket: Socket
  readonly #reader: FrameReader
  readonly #onClose: (error?: Error) => void
  #closed = false
  #corked = false

  constructor(socket: Socket, bytesMax: number, onFrame: (frame: unknown) => void, onClose: (error?: Error) => void) {
    this.socket = socket
    this.#reader = new FrameReader(bytesMax)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      if (this.#closed) return
      let frames: unknown[]
      try {
        frames = this.#reader.push(chunk)
      } catch (error) {
        this.close(error as Error)
        return
      }
      for (const frame of frames) {
        if (this.#closed) return
        onFrame(frame)
      }
    })
    socket.on('error', (error) => this.close(error))
    socket.on('close', () => {
      if (this.#closed) return
      this.#closed = true
      onClose()
    })
    this.#onClose = onClose
  }

  get closed(): boolean {
    return this.#closed
  }

  /** After the handshake the peer may send frames up to the full bound. */
  allow(bytesMax: number): void {
    this.#reader.bytesMax = bytesMax
  }

  /** Frames sent in one tick go out in one write (a burst of settles or deliveries is one packet, not many). */
  send(frame: unknown): void {
    if (this.#closed) return
    if (!this.#corked) {
      this.#corked = true
      this.socket.cork()
      process.nextTick(() => {
        this.#corked = false
        this.socket.uncork()
      })
    }
    this.socket.write(encodeFrame(frame))
  }

  close(error?: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.socket.destroy()
    this.#onClose(error)
  }
}
