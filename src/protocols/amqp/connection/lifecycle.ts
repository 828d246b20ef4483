// How an AMQP connection's life reads in the log, in AMQP's words: the kit's registry writes the lines
// (common/connections.ts), this says what happened — the reply sent, the client's own close, a timeout.
import type { Logger } from '../../../util/logger.js'
import type { ConnectionLifecycle } from '../../common/connections.js'
import type { ChannelHost } from '../channel/context.js'
import { ReplyCode } from '../codec/index.js'
import { type AmqpError, replyText } from '../errors.js'

export class AmqpConnectionLog {
  readonly #registry: ConnectionLifecycle<ChannelHost>
  readonly #connection: ChannelHost
  readonly #logger: Logger

  constructor(registry: ConnectionLifecycle<ChannelHost>, connection: ChannelHost, logger: Logger) {
    this.#registry = registry
    this.#connection = connection
    this.#logger = logger
  }

  opened(): void {
    this.#registry.opened(this.#connection)
  }

  socketError(error: NodeJS.ErrnoException): void {
    this.#logger.debug({ err: error }, 'amqp socket error')
    this.#registry.closing(this.#connection, `socket error: ${error.code ?? error.message}`)
  }

  /** Spec 4.2.2: a bad protocol header is answered with ours, without connection.close. */
  badProtocolHeader(error: Error): void {
    this.#registry.protocolError(
      this.#connection,
      `not an AMQP 0-9-1 protocol header (${error.message}): answered with ours and closed`,
    )
  }

  /** connection.close sent: the client's error, or (shutdown, administrator, refused login) not its fault. */
  closeSent(error: AmqpError, authenticating: boolean): void {
    const sent = `connection.close ${error.replyCode} ${replyText(error)}`
    // A refused login is logged where it is checked (common/authentication.ts).
    if (error.replyCode === ReplyCode.CONNECTION_FORCED || authenticating)
      this.#registry.closing(this.#connection, sent)
    else this.#registry.protocolError(this.#connection, sent)
  }

  /** channel.close sent: the channel's error, the connection stays. */
  channelCloseSent(channel: number, error: AmqpError): void {
    const sent = `channel ${channel}: channel.close ${error.replyCode} ${replyText(error)}`
    this.#registry.protocolError(this.#connection, sent, false)
  }

  /** The client sent connection.close: a normal close, or one with the error the client reports. */
  clientClosed(code: number, text: string): void {
    const reason =
      code === ReplyCode.REPLY_SUCCESS ? 'client closed the connection' : `client sent connection.close ${code} ${text}`
    this.#registry.closing(this.#connection, reason)
  }

  handshakeTimeout(ms: number): void {
    this.#registry.closing(this.#connection, `handshake not completed within ${ms} ms`)
  }

  missedHeartbeats(seconds: number): void {
    this.#registry.protocolError(this.#connection, `missed heartbeats from the client (heartbeat ${seconds} s): closed`)
  }
}
