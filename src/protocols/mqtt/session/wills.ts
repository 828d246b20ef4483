// Wills waiting to be published: a will goes out when its connection ends without DISCONNECT, right away or
// after its Will Delay Interval. Reconnecting to the session within the delay cancels it; the session
// ending first (expiry, or a Clean Start takeover) publishes it then. Each will is published at most once.
// In memory only (a restart while one waits drops it, as Mosquitto without persistence does).
import type { Logger } from '../../../util/logger.js'
import type { InboundPublish } from '../wire/message.js'
import type { Will } from './session.js'

export class Wills {
  readonly #publish: (p: InboundPublish) => Promise<number>
  readonly #logger: Logger
  readonly #timers = new Map<string, NodeJS.Timeout>()
  /** The publish of each will still waiting, by client id. */
  readonly #pending = new Map<string, () => void>()

  constructor(publish: (p: InboundPublish) => Promise<number>, logger: Logger) {
    this.#publish = publish
    this.#logger = logger
  }

  /** Publishes a will now or after its delay (bounded by the session's expiry); reconnecting cancels it. */
  schedule(clientId: string, will: Will, sessionExpiryS: number): void {
    const delayS = Math.min(will.delayS, sessionExpiryS)
    const fire = () => {
      // No longer pending: the session's expiry (fire()) must not publish it a second time.
      this.#timers.delete(clientId)
      this.#pending.delete(clientId)
      this.#publish({
        topic: will.topic,
        qos: will.qos,
        retain: will.retain,
        payload: will.payload,
        properties: will.properties,
        clientId,
      }).catch((error) => this.#logger.warn({ err: error, clientId }, 'will publish failed'))
    }
    this.cancel(clientId)
    if (delayS <= 0) {
      fire()
      return
    }
    const at = Date.now() + delayS * 1000
    const arm = () => {
      const left = at - Date.now()
      // Timers cap at 2^31 ms (~24.8 days): a longer delay re-arms until it is really due.
      const timer = setTimeout(left > 0x7fffffff ? arm : fire, Math.min(Math.max(left, 0), 0x7fffffff))
      timer.unref()
      this.#timers.set(clientId, timer)
    }
    arm()
    this.#pending.set(clientId, fire)
  }

  /** Drops a waiting will unpublished (its session was resumed) [MQTT-3.1.3-9]. */
  cancel(clientId: string): void {
    const timer = this.#timers.get(clientId)
    if (timer !== undefined) clearTimeout(timer)
    this.#timers.delete(clientId)
    this.#pending.delete(clientId)
  }

  /** The session ended before its will's delay: publish it now [MQTT-3.1.3-9]. */
  fire(clientId: string): void {
    const fire = this.#pending.get(clientId)
    if (fire === undefined) return
    const timer = this.#timers.get(clientId)
    if (timer !== undefined) clearTimeout(timer)
    this.#pending.delete(clientId)
    fire()
  }

  /** Stops every will timer (the hub is closing). */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
  }
}
