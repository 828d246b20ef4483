// The channel table of one AMQP connection: opening a channel (channel.open, within the negotiated
// channel_max), routing each frame to its channel, the frames channels hold behind unfinished async
// methods (read back-pressure), the admin view, and releasing them all when the connection closes.
import { AmqpChannel, type ChannelHost } from '../channel/channel.js'
import { type AmqpFrame, decodeMethodFrame, FRAME_METHOD, ReplyCode } from '../codec/index.js'
import { AmqpError, amqpError } from '../errors.js'
import { CHANNEL_MAX_OFFER } from './handshake.js'

export class Channels {
  readonly #host: ChannelHost
  readonly #open = new Map<number, AmqpChannel>()
  /** channel_max as tuned. */
  max = CHANNEL_MAX_OFFER

  constructor(host: ChannelHost) {
    this.#host = host
  }

  /** Hands a frame on a non-zero channel to its channel (opening it on channel.open); true if it now holds a backlog. */
  route(frame: AmqpFrame): boolean {
    let channel = this.#open.get(frame.channel)
    if (channel?.closed) {
      this.#open.delete(frame.channel)
      channel = undefined
    }
    if (channel === undefined) {
      this.#openChannel(frame)
      return false
    }
    channel.handleFrame(frame)
    return channel.backlogLength > 0
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
    if (frame.channel > this.max) {
      throw new AmqpError(
        ReplyCode.NOT_ALLOWED,
        `channel number ${frame.channel} exceeds channel_max ${this.max}`,
        method.classId,
        method.methodId,
      )
    }
    this.#open.set(frame.channel, new AmqpChannel(this.#host, frame.channel))
    this.#host.sendMethod(frame.channel, 'channel.open-ok', {})
  }

  /** Frames all channels hold behind unfinished async methods. */
  get backlog(): number {
    let backlog = 0
    for (const ch of this.#open.values()) backlog += ch.backlogLength
    return backlog
  }

  /** Open channels (`wharf_channels`). */
  get count(): number {
    let n = 0
    for (const ch of this.#open.values()) if (!ch.closed) n++
    return n
  }

  /** Open channels as the admin API shows them. */
  describe(): Array<ReturnType<AmqpChannel['describe']>> {
    const out: Array<ReturnType<AmqpChannel['describe']>> = []
    for (const ch of this.#open.values()) if (!ch.closed) out.push(ch.describe())
    return out
  }

  /** The connection is closing: every channel lets go of its consumers and unacked deliveries. */
  release(): void {
    for (const ch of this.#open.values()) ch.release()
    this.#open.clear()
  }
}
