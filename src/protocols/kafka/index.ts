// The Kafka listener: accepts TCP connections and serves the Kafka wire protocol against the broker.
// Connection handling is in connection.ts; request handlers in metadata.ts, produce.ts, fetch.ts, groups.ts, admin.ts.
import { type ConnectionInfo, ConnectionRegistry, connectionInfo } from '../common/connections.js'
import { acceptTcp, type Listener } from '../common/listener.js'
import {
  handleAlterConfigs,
  handleCreatePartitions,
  handleCreateTopics,
  handleDeleteRecords,
  handleDeleteTopics,
  handleDescribeConfigs,
  handleSaslAuthenticate,
  handleSaslHandshake,
  rawSaslToken,
} from './admin.js'
import { ApiKey } from './codec/index.js'
import { Connection, type Handler, type ServerState } from './connection.js'
import { handleFetch, handleListOffsets } from './fetch.js'
import {
  handleDeleteGroups,
  handleDescribeGroups,
  handleFindCoordinator,
  handleHeartbeat,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetFetch,
  handleSyncGroup,
} from './groups.js'
import { handleApiVersions, handleMetadata } from './metadata.js'
import { type KafkaListenerContext, type KafkaOptions, resolveKafkaOptions } from './options.js'
import { handleInitProducerId, handleProduce } from './produce.js'
import { supportedVersions } from './versions.js'

export type { KafkaListenerContext, KafkaOptions }

export interface KafkaListener extends Listener {
  /** Closed by id by dropping the socket: Kafka has no close frame. */
  readonly connections: ConnectionRegistry<Connection>
  /** Number of open connections. */
  readonly connectionCount: number
}

const handlers = new Map<number, Handler>([
  [ApiKey.ApiVersions, handleApiVersions as Handler],
  [ApiKey.Metadata, handleMetadata as Handler],
  [ApiKey.Produce, handleProduce as Handler],
  [ApiKey.Fetch, handleFetch as Handler],
  [ApiKey.ListOffsets, handleListOffsets as Handler],
  [ApiKey.InitProducerId, handleInitProducerId as Handler],
  [ApiKey.FindCoordinator, handleFindCoordinator as Handler],
  [ApiKey.JoinGroup, handleJoinGroup as Handler],
  [ApiKey.SyncGroup, handleSyncGroup as Handler],
  [ApiKey.Heartbeat, handleHeartbeat as Handler],
  [ApiKey.LeaveGroup, handleLeaveGroup as Handler],
  [ApiKey.OffsetCommit, handleOffsetCommit as Handler],
  [ApiKey.OffsetFetch, handleOffsetFetch as Handler],
  [ApiKey.DescribeGroups, handleDescribeGroups as Handler],
  [ApiKey.ListGroups, handleListGroups as Handler],
  [ApiKey.DeleteGroups, handleDeleteGroups as Handler],
  [ApiKey.CreateTopics, handleCreateTopics as Handler],
  [ApiKey.DeleteTopics, handleDeleteTopics as Handler],
  [ApiKey.CreatePartitions, handleCreatePartitions as Handler],
  [ApiKey.DeleteRecords, handleDeleteRecords as Handler],
  [ApiKey.DescribeConfigs, handleDescribeConfigs as Handler],
  [ApiKey.AlterConfigs, handleAlterConfigs as Handler],
  [ApiKey.SaslHandshake, handleSaslHandshake as Handler],
  [ApiKey.SaslAuthenticate, handleSaslAuthenticate as Handler],
])

// Every advertised API has a handler, and nothing is handled that is not advertised.
for (const apiKey of supportedVersions.keys())
  if (!handlers.has(apiKey)) throw new Error(`kafka: api ${apiKey} advertised without a handler`)

function describeConnection(c: Connection): ConnectionInfo {
  return connectionInfo(
    {
      id: c.id,
      protocol: 'kafka',
      remoteAddress: c.remoteAddress,
      connectedAt: c.connectedAt,
      tls: false,
      details: { clientId: c.clientId ?? null, authenticated: c.authenticated },
    },
    {
      clientId: c.clientId,
      // The software name (KIP-511) says which library; without it the client.id is the best name there is.
      clientName: c.clientSoftwareName ?? c.clientId,
      clientVersion: c.clientSoftwareVersion,
      user: c.user,
    },
  )
}

const WILDCARD = new Set(['0.0.0.0', '::', '', 'localhost'])

export async function startKafkaListener(ctx: KafkaListenerContext): Promise<KafkaListener> {
  const options = resolveKafkaOptions(ctx.kafka)
  const connections = new ConnectionRegistry<Connection>(
    {
      protocol: 'kafka',
      id: (c) => c.id,
      isOpen: (c) => !c.isClosed,
      describe: describeConnection,
      close: (c) => c.close(),
    },
    ctx.logger,
  )
  let state: ServerState | null = null
  const tcp = await acceptTcp(ctx, connections, (socket) => {
    if (state === null) {
      socket.destroy()
      return
    }
    const connection = new Connection(state, socket, handlers, rawSaslToken)
    connections.track(connection, socket)
  })
  // Clients connect to what Metadata advertises, so it must be reachable: a wildcard or "localhost" listen
  // address becomes 127.0.0.1 (librdkafka may resolve localhost to ::1 first).
  const advertisedHost = options.advertisedHost ?? (WILDCARD.has(ctx.host) ? '127.0.0.1' : ctx.host)
  state = { broker: ctx.broker, options, logger: ctx.logger, advertisedHost, advertisedPort: tcp.port }
  const hostForUrl = advertisedHost.includes(':') ? `[${advertisedHost}]` : advertisedHost
  ctx.logger.info(
    {
      port: tcp.port,
      advertisedHost,
      autoCreateTopics: options.autoCreateTopics,
      sasl: Object.keys(options.saslUsers).length > 0,
    },
    'kafka listening',
  )
  return {
    name: 'kafka',
    port: tcp.port,
    urls: [`kafka://${hostForUrl}:${tcp.port}`],
    connections,
    get connectionCount() {
      return connections.size
    },
    async close() {
      const closing = tcp.close()
      connections.closeAll('shutdown')
      await closing
    },
  }
}
