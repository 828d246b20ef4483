// The write side of one connection and its back-pressure: writes corked into one writev per tick, the
// socket backlog that puts the connection in the hub's congested set (publisher flow control, see
// MqttHub.waitForFlow), and the three reasons reading pauses (too many decoded packets waiting, a client
// that does not read what we write, congested subscribers). Every other part of the connection writes here.
import type { Packet } from 'mqtt-packet'
import { encodePacket } from '../wire/codec.js'
import type { ConnectionCore } from './state.js'

export class Output {
  readonly #c: ConnectionCore
  #pausedForInput = false
  #pausedForWrite = false
  /** Paused because some subscriber's socket is congested (publisher flow control, see MqttHub.flow). */
  #pausedForFlow = false
  /** In the hub's congested set: our write backlog is over half the limit. */
  #congested = false
  /** Clean-session backlog: more QoS ≥ 1 messages waiting than BACKLOG_HIGH (publisher flow control too). */
  #backlogged = false
  /** Congested for a whole flow episode: no longer holds publishers back until it catches up. */
  #stalled = false
  #corked = false

  constructor(c: ConnectionCore) {
    this.#c = c
  }

  send(packet: Packet): void {
    if (this.#c.state === 'closed') return
    this.write(encodePacket(packet, this.#c.version))
  }

  /** Writes are corked until the end of the tick: one writev per burst of packets. */
  write(bytes: Buffer): void {
    const stream = this.#c.stream
    if (!this.#corked) {
      this.#corked = true
      stream.cork()
      process.nextTick(() => {
        this.#corked = false
        stream.uncork()
      })
    }
    stream.write(bytes)
    const limit = this.#c.hub.limits.maxWriteBufferBytes
    if (!this.#congested && stream.writableLength > limit / 2) {
      this.#congested = true
      this.updateFlow()
      stream.once('drain', () => {
        this.#congested = false
        this.updateFlow()
      })
    }
    if (stream.writableLength > limit && !this.#pausedForWrite) {
      // The client does not read: stop reading what it sends until it catches up.
      this.#pausedForWrite = true
      stream.pause()
      stream.once('drain', () => {
        this.#pausedForWrite = false
        this.#resumeIfIdle()
      })
    }
  }

  /** Uncorked and unchecked: for the last packets before closing (a refusing CONNACK). */
  writeNow(bytes: Buffer): void {
    if (!this.#c.stream.destroyed) this.#c.stream.write(bytes)
  }

  /** Too many decoded packets wait to be handled: stop reading until they are. */
  pauseInput(): void {
    if (this.#pausedForInput) return
    this.#pausedForInput = true
    this.#c.stream.pause()
  }

  /** The decoded packets were handled: read again (unless paused for another reason). */
  resumeInput(): void {
    if (this.#pausedForInput && this.#c.state !== 'closed') {
      this.#pausedForInput = false
      this.#resumeIfIdle()
    }
  }

  /** After a burst of publishes: wait while any subscriber is congested. */
  holdForSubscribers(): void {
    // Subscribers cannot keep up: stop reading publishes until their sockets drain (bounded wait), rather
    // than accept messages only to drop them at their full write buffers.
    const hub = this.#c.hub
    if (hub.congested.size > 0 && !this.#pausedForFlow && this.#c.state !== 'closed') {
      this.#pausedForFlow = true
      this.#c.stream.pause()
      hub.waitForFlow(() => {
        this.#pausedForFlow = false
        this.#resumeIfIdle()
      })
    }
  }

  #resumeIfIdle(): void {
    if (!this.#pausedForInput && !this.#pausedForWrite && !this.#pausedForFlow && this.#c.state !== 'closed')
      this.#c.stream.resume()
  }

  get backlogged(): boolean {
    return this.#backlogged
  }

  /** The clean-session waiting list crossed BACKLOG_HIGH (true) or went back down to BACKLOG_LOW (false). */
  setBacklogged(backlogged: boolean): void {
    this.#backlogged = backlogged
    this.updateFlow()
  }

  /**
   * Membership in the hub's congested set, which pauses publishers (MqttHub.waitForFlow): while our socket
   * backlog or waiting list is high — unless we already stalled a whole episode, then only once we drained.
   */
  updateFlow(): void {
    if ((this.#congested || this.#backlogged) && this.#c.state !== 'closed') {
      if (!this.#stalled) this.#c.hub.congested.add(this.#c.connection)
      return
    }
    this.#stalled = false
    this.#c.hub.decongested(this.#c.connection)
  }

  /** The hub gave up waiting for us (flowStallMs): stop pausing publishers until we catch up. */
  markStalled(): void {
    this.#stalled = true
  }
}
