// Packet intake: decode what arrives, queue it, and hand the packets one at a time, strictly in order, to
// the handler of their type. Control packets (CONNECT, SUBSCRIBE, UNSUBSCRIBE) are awaited before the next
// packet; PUBLISH is routed at once and only its acknowledgement waits, so publishes pipeline — except under
// a resource alarm, when a PUBLISH waits for the alarm to clear (output.ts stops reading meanwhile).
import type { Packet } from 'mqtt-packet'
import { encodePacket, MqttDecoder, MqttFrameError } from '../wire/codec.js'
import { MqttError, Reason } from '../wire/errors.js'
import { checkPacketId } from '../wire/validate.js'
import { fail, onDisconnect } from './closing.js'
import { onConnect } from './connect.js'
import type { ConnectionContext } from './context.js'
import { onSubscribe, onUnsubscribe } from './subscribe.js'

/** Packets decoded but not yet handled; beyond this, reading pauses. */
const pendingPacketsMax = 256

export class Intake {
  readonly #c: ConnectionContext
  readonly #decoder: MqttDecoder
  /** When the client last sent anything (keep-alive). */
  lastSeen = Date.now()
  /** Decoded packets not yet handled; entries before #pendingHead are done (no Array#shift per packet). */
  #pending: Array<{ packet: Packet; frame: Buffer }> = []
  #pendingHead = 0
  #pumping = false
  #publishedInBurst = false

  constructor(c: ConnectionContext) {
    this.#c = c
    this.#decoder = new MqttDecoder(c.hub.limits.maxPacketBytes)
  }

  onData(chunk: Buffer): void {
    if (this.#c.state === 'closed') return
    this.lastSeen = Date.now()
    let packets: Array<{ packet: Packet; frame: Buffer }>
    try {
      packets = this.#decoder.push(chunk)
    } catch (error) {
      this.#frameError(error)
      return
    }
    if (this.#pendingHead === this.#pending.length) {
      this.#pending = packets
      this.#pendingHead = 0
    } else for (const p of packets) this.#pending.push(p)
    if (this.#pending.length - this.#pendingHead > pendingPacketsMax) this.#c.output.pauseInput()
    this.#pump()
  }

  #frameError(error: unknown): void {
    const c = this.#c
    const frameError =
      error instanceof MqttFrameError ? error : new MqttFrameError(Reason.malformedPacket, String(error))
    c.hub.logger.debug({ clientId: c.clientId, err: frameError.message }, 'bad MQTT frame')
    if (c.state === 'new' && frameError.badProtocolLevel) {
      // Unknown protocol level: answer in 3.1.1 form, the one every client can read [MQTT-3.1.2-2].
      c.output.writeNow(encodePacket({ cmd: 'connack', returnCode: 1, sessionPresent: false }, 4))
    }
    fail(c, new MqttError(frameError.reason, frameError.message))
  }

  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#pendingHead < this.#pending.length && this.#c.state !== 'closed') {
        const { packet, frame } = this.#pending[this.#pendingHead++]!
        const result = this.#handle(packet, frame)
        if (result !== undefined) {
          result.then(
            () => {
              this.#pumping = false
              this.#pump()
            },
            (error) => {
              this.#pumping = false
              fail(this.#c, error)
            },
          )
          return
        }
      }
    } catch (error) {
      this.#pumping = false
      fail(this.#c, error)
      return
    }
    this.#pumping = false
    this.#pending = []
    this.#pendingHead = 0
    if (this.#publishedInBurst) {
      this.#publishedInBurst = false
      this.#c.output.holdForSubscribers()
    }
    this.#c.output.resumeInput()
  }

  #handle(packet: Packet, frame: Buffer): Promise<void> | undefined {
    const c = this.#c
    if (c.state === 'new') {
      if (packet.cmd !== 'connect')
        throw new MqttError(Reason.protocolError, `first packet must be CONNECT, got ${packet.cmd}`)
      c.state = 'connecting'
      return onConnect(c, packet, frame)
    }
    switch (packet.cmd) {
      case 'publish': {
        this.#publishedInBurst = true
        const alarm = c.output.publishing()
        if (alarm !== undefined)
          return alarm.then(() => {
            if (c.state !== 'closed') c.inbound.onPublish(packet, frame)
          })
        c.inbound.onPublish(packet, frame)
        return undefined
      }
      case 'puback':
        c.outbound.onPuback(checkPacketId(packet.messageId))
        return undefined
      case 'pubrec':
        c.outbound.onPubrec(checkPacketId(packet.messageId), packet.reasonCode ?? 0)
        return undefined
      case 'pubrel':
        c.inbound.onPubrel(checkPacketId(packet.messageId))
        return undefined
      case 'pubcomp':
        c.outbound.onPubcomp(checkPacketId(packet.messageId))
        return undefined
      case 'subscribe':
        return onSubscribe(c, packet, frame)
      case 'unsubscribe':
        return onUnsubscribe(c, packet, frame)
      case 'pingreq':
        c.output.send({ cmd: 'pingresp' })
        return undefined
      case 'disconnect':
        onDisconnect(c, packet)
        return undefined
      case 'connect':
        throw new MqttError(Reason.protocolError, 'second CONNECT') // [MQTT-3.1.0-2]
      default:
        throw new MqttError(Reason.protocolError, `unexpected ${packet.cmd} from a client`)
    }
  }
}
