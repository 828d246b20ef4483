// The write side of one MQTT connection over the common SocketOutput (one writev per tick) and its
// back-pressure: a socket backlog puts the connection in the hub's congested set (publisher flow control,
// see MqttHub.waitForFlow); reading pauses for input (decoded packets waiting), write (a client that does
// not read), flow (congested subscribers) or alarm (a resource alarm while this connection publishes).
// Every other part of the connection writes here.
import type { Packet } from 'mqtt-packet'
import { SocketOutput } from '../../common/socket-output.js'
import { encodePacket } from '../wire/codec.js'
import type { ConnectionCore } from './state.js'

export class Output {
  readonly #c: ConnectionCore
  readonly #out: SocketOutput
  /** In the hub's congested set: our write backlog is over half the limit. */
  #congested = false
  /** Clean-session backlog: more QoS ≥ 1 messages waiting than BACKLOG_HIGH (publisher flow control too). */
  #backlogged = false
  /** Congested for a whole flow episode: no longer holds publishers back until it catches up. */
  #stalled = false
  /** Has sent a PUBLISH: such connections stop being read while a resource alarm is on. */
  #publisher = false
  /** Resumes the PUBLISH held for an alarm once it clears. */
  #alarmWaiter: (() => void) | null = null

  constructor(c: ConnectionCore) {
    this.#c = c
    this.#out = new SocketOutput(c.stream, {
      flushOn: 'tick',
      concatBytesMax: 0,
      writeBufferBytesMax: c.hub.limits.maxWriteBufferBytes,
      onDrain: () => {
        if (!this.#congested) return
        this.#congested = false
        this.updateFlow()
      },
    })
  }

  send(packet: Packet): void {
    if (this.#c.state === 'closed') return
    this.write(encodePacket(packet, this.#c.version))
  }

  /** Queued until the end of the tick: one writev per burst of packets. */
  write(bytes: Buffer): void {
    const out = this.#out
    out.write(bytes)
    if (!this.#congested && out.bufferedBytes > this.#c.hub.limits.maxWriteBufferBytes / 2) {
      this.#congested = true
      this.updateFlow()
    }
  }

  /** Bytes the client has yet to take (queued here or in the socket): QoS 0 is dropped beyond the limit. */
  get bufferedBytes(): number {
    return this.#out.bufferedBytes
  }

  /** At once, after what is queued: for the last packets before closing (a refusing CONNACK). */
  writeNow(bytes: Buffer): void {
    if (this.#c.stream.destroyed) return
    this.#out.write(bytes)
    this.#out.flush()
  }

  /** Closing: what is queued goes out now, nothing written later does, and reading stays as it is. */
  finish(): void {
    this.#out.flush()
    this.#out.close()
  }

  /** Too many decoded packets wait to be handled: stop reading until they are. */
  pauseInput(): void {
    this.#out.hold('input')
  }

  /** The decoded packets were handled: read again (unless paused for another reason). */
  resumeInput(): void {
    if (this.#c.state !== 'closed') this.#out.release('input')
  }

  /** After a burst of publishes: wait while any subscriber is congested. */
  holdForSubscribers(): void {
    // Subscribers cannot keep up: stop reading publishes until their sockets drain (bounded wait), rather
    // than accept messages only to drop them at their full write buffers.
    const hub = this.#c.hub
    if (hub.congested.size > 0 && !this.#out.isHeld('flow') && this.#c.state !== 'closed') {
      this.#out.hold('flow')
      hub.waitForFlow(() => this.#out.release('flow'))
    }
  }

  /**
   * A PUBLISH is about to be handled. Under a resource alarm it waits, unrouted and unacknowledged, and
   * reading stops until the alarm clears (the promise resolves then), as RabbitMQ's MQTT plugin blocks a
   * publishing connection; otherwise undefined and the PUBLISH goes on at once.
   */
  publishing(): Promise<void> | undefined {
    this.#publisher = true
    if (this.#c.hub.alarm === null) return undefined
    this.#out.hold('alarm')
    return new Promise((resolve) => {
      this.#alarmWaiter = resolve
    })
  }

  /**
   * A resource alarm was raised (true) or cleared: a connection that has published stops being read at once
   * (not only at its next PUBLISH); one that only subscribes keeps being read and receiving.
   */
  setAlarm(active: boolean): void {
    if (active) {
      if (this.#publisher && this.#c.state !== 'closed') this.#out.hold('alarm')
      return
    }
    const resume = this.#alarmWaiter
    this.#alarmWaiter = null
    if (this.#c.state !== 'closed') this.#out.release('alarm')
    resume?.()
  }

  /** Held back by a resource alarm because it publishes (the listener's blockedPublisherCount). */
  get blockedPublisher(): boolean {
    return this.#c.state !== 'closed' && this.#out.isHeld('alarm')
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
