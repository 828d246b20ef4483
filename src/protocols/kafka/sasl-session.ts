// One connection's SASL state: the exchange under way after SaslHandshake, whether its tokens come bare
// (after SaslHandshake v0, kafka-python), one step at a time, and that a connection authenticates once.
import type { Principal } from '../../broker/security/authorizer.js'
import type { SaslServer, SaslStep } from '../common/sasl/server.js'

export class SaslSession {
  /** The exchange after SaslHandshake, until it succeeds (or the connection closes on failure). */
  #server: SaslServer | undefined
  /** Set once an exchange has succeeded: Kafka authenticates a connection once. */
  #done = false
  /** After SaslHandshake v0: frames are bare SASL tokens, not Kafka requests, until the exchange ends. */
  #raw = false
  /** A step is being checked: the client must wait for its answer before sending the next. */
  #stepping = false
  readonly #onSuccess: (principal: Principal) => void

  constructor(onSuccess: (principal: Principal) => void) {
    this.#onSuccess = onSuccess
  }

  get underWay(): boolean {
    return this.#server !== undefined
  }

  get done(): boolean {
    return this.#done
  }

  get raw(): boolean {
    return this.#raw
  }

  /** The mechanism of the exchange under way. */
  get mechanism(): string | undefined {
    return this.#server?.mechanism
  }

  /** After a successful SaslHandshake; `raw` for v0. */
  start(server: SaslServer, raw: boolean): void {
    this.#server = server
    this.#raw = raw
  }

  /**
   * The next step (SaslAuthenticate or a bare token); undefined out of turn (no exchange under way, or the
   * previous step still being checked). On success the exchange ends and `onSuccess` gets the principal.
   */
  step(token: Buffer): Promise<SaslStep> | undefined {
    const server = this.#server
    if (server === undefined || this.#stepping) return undefined
    this.#stepping = true
    return server.step(token).then((step) => {
      this.#stepping = false
      if (step.kind === 'success') {
        this.#server = undefined
        this.#raw = false
        this.#done = true
        this.#onSuccess(step.principal)
      }
      return step
    })
  }
}
