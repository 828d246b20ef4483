// What every part of one MQTT connection reads and writes: the hub, the transport stream, the lifecycle
// state and protocol level, the session and what CONNECT settled. The parts' own types are not here, so
// any part can depend on this without depending on the others (context.ts adds them).
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Access } from '../../../broker/security/authorizer.js'
import type { HubConnection, MqttHub } from '../hub/hub.js'
import type { Session, SessionOwner, Will } from '../session/session.js'

export type ConnectionState = 'new' | 'connecting' | 'connected' | 'closed'

export interface ConnectionCore {
  /** The connection itself: its identity in the hub's sets, the session's owner and the queue owner. */
  readonly connection: HubConnection & SessionOwner
  readonly hub: MqttHub
  readonly stream: Duplex
  /** The TCP or TLS socket under the stream (under the WebSocket for MQTT over WebSocket): peer and certificate. */
  readonly socket: Socket
  /** A WebSocket upgrade a page of another origin sent: neither anonymous nor certificate login applies. */
  readonly crossOrigin: boolean
  state: ConnectionState
  version: number
  session: Session | null
  clientId: string
  // What CONNECT settled.
  cleanStart: boolean
  /** The authenticated principal's name (`ANONYMOUS` for an anonymous client): access's, undefined before. */
  readonly user: string | undefined
  /** What the principal may do; set once CONNECT authenticated it, null before. */
  access: Access | null
  will: Will | null
  keepaliveMs: number
  /** A refusing CONNACK was already written (closing must not write a second one). */
  refused: boolean
  /** Settles once the session was saved or destroyed after teardown (awaited by shutdown). */
  closing: Promise<void>
}
