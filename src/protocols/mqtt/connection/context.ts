// Everything the parts of one MQTT connection share: the core state (state.ts) and the parts themselves.
// A type only: MqttConnection (connection.ts) builds the parts. A part that others depend on asks for no
// more than it uses (output.ts only the core; outbound.ts the core, output and publish writer).
import type { InboundPublishes } from './inbound.js'
import type { OutboundDeliveries } from './outbound.js'
import type { Output } from './output.js'
import type { PublishWriter } from './publish-writer.js'
import type { ConnectionCore } from './state.js'

export interface ConnectionContext extends ConnectionCore {
  readonly output: Output
  readonly publishWriter: PublishWriter
  readonly inbound: InboundPublishes
  readonly outbound: OutboundDeliveries
}
