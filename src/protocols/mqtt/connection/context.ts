// What the parts of one MQTT connection share: the hub, the transport stream, the lifecycle state and
// protocol level, the session, what CONNECT settled, and the parts themselves. MqttConnection owns one
// context; the parts are small classes (output.ts, inbound.ts, outbound.ts, publish-writer.ts, intake.ts)
// and plain functions (connect.ts, subscribe.ts, closing.ts) over it, so none of this state has to be
// public on MqttConnection.
import type { Duplex } from 'node:stream'
import type { MqttHub, Session, Will } from '../hub/hub.js'
import type { MqttConnection } from './connection.js'
import { InboundPublishes } from './inbound.js'
import { OutboundDeliveries } from './outbound.js'
import { Output } from './output.js'
import { PublishWriter } from './publish-writer.js'

export type ConnectionState = 'new' | 'connecting' | 'connected' | 'closed'

export class ConnectionContext {
  state: ConnectionState = 'new'
  version = 4
  session: Session | null = null
  clientId = ''
  // What CONNECT settled.
  cleanStart = true
  user: string | undefined
  will: Will | null = null
  keepaliveMs = 0
  /** A refusing CONNACK was already written (closing must not write a second one). */
  refused = false
  /** Settles once the session was saved or destroyed after teardown (awaited by shutdown). */
  closing: Promise<void> = Promise.resolve()
  readonly output: Output
  readonly publishWriter: PublishWriter
  readonly inbound: InboundPublishes
  readonly outbound: OutboundDeliveries

  constructor(
    /** The connection itself: its identity in the hub's sets, the session and as queue owner. */
    readonly connection: MqttConnection,
    readonly hub: MqttHub,
    readonly stream: Duplex,
  ) {
    this.output = new Output(this)
    this.publishWriter = new PublishWriter(this)
    this.inbound = new InboundPublishes(this)
    this.outbound = new OutboundDeliveries(this)
  }
}
