// The Kafka listener: accepts TCP (and, when configured, TLS) connections and serves the Kafka wire protocol
// against the broker. Connection handling is in connection.ts; request handlers in metadata.ts, produce.ts,
// fetch.ts, groups.ts, admin.ts, sasl.ts, acls.ts, credentials.ts.
import type net from 'node:net'
import type { Principal } from '../../broker/security/authorizer.js'
import { certificateLogin } from '../common/authentication.js'
import { type ConnectionInfo, ConnectionRegistry, connectionInfo } from '../common/connections.js'
import { acceptTcp, acceptTls, type Listener, listenerPort } from '../common/listener.js'
import { trafficOf } from '../common/metrics.js'
import { peerCertificateSubject } from '../common/tls.js'
import { handleCreateAcls, handleDeleteAcls, handleDescribeAcls } from './acls.js'
import {
  handleAlterConfigs,
  handleCreatePartitions,
  handleCreateTopics,
  handleDeleteRecords,
  handleDeleteTopics,
  handleDescribeConfigs,
} from './admin.js'
import { advertisedHostFor } from './advertised.js'
import { AlarmThrottle } from './alarm-throttle.js'
import { routeTransactions } from './cluster.js'
import { ApiKey } from './codec/index.js'
import { Connection, type Handler, type ServerState } from './connection.js'
import { handleAlterUserScramCredentials, handleDescribeUserScramCredentials } from './credentials.js'
import { handleFetch, handleListOffsets } from './fetch.js'
import { FetchSessionCache } from './fetch-session.js'
import { GroupLoads } from './group-loads.js'
import {
  handleDeleteGroups,
  handleDescribeGroups,
  handleFindCoordinator,
  handleHeartbeat,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleOffsetCommit,
  handleSyncGroup,
} from './groups.js'
import { handleIncrementalAlterConfigs } from './incremental-configs.js'
import { handleOffsetForLeaderEpoch } from './leader-epoch.js'
import { handleApiVersions, handleMetadata } from './metadata.js'
import { handleOffsetFetch } from './offset-fetch.js'
import { type KafkaListenerContext, type KafkaOptions, resolveKafkaOptions } from './options.js'
import { handleInitProducerId, handleProduce } from './produce.js'
import { withQuotas } from './quota-throttle.js'
import { handleAlterClientQuotas, handleDescribeClientQuotas } from './quotas.js'
import { handleSaslAuthenticate, handleSaslHandshake } from './sasl.js'
import { TopicIds } from './topic-ids.js'
import {
  handleAddOffsetsToTxn,
  handleAddPartitionsToTxn,
  handleEndTxn,
  handleTxnOffsetCommit,
} from './transactions/coordinator.js'
import { handleDescribeProducers, handleDescribeTransactions, handleListTransactions } from './transactions/describe.js'
import { supportedVersions } from './versions.js'

export type { KafkaListenerContext, KafkaOptions }

export interface KafkaListener extends Listener {
  /** Closed by id by dropping the socket: Kafka has no close frame. */
  readonly connections: ConnectionRegistry<Connection>
  /** Number of open connections. */
  readonly connectionCount: number
  /** The TLS port, when TLS is configured. */
  readonly tlsPort: number | undefined
  /** The host Metadata names for this broker (what a cluster member advertises to the others). */
  readonly advertisedHost: string
  /** The plaintext port; undefined for a TLS-only listener. */
  readonly plainPort: number | undefined
  /** Open connections whose produces a resource alarm holds back. */
  readonly blockedPublisherCount: number
  /** The fetch session cache (KIP-227): its size and counters. */
  readonly fetchSessions: Pick<FetchSessionCache, 'size' | 'stats'>
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
  [ApiKey.DescribeAcls, handleDescribeAcls as Handler],
  [ApiKey.CreateAcls, handleCreateAcls as Handler],
  [ApiKey.DeleteAcls, handleDeleteAcls as Handler],
  [ApiKey.DescribeUserScramCredentials, handleDescribeUserScramCredentials as Handler],
  [ApiKey.AlterUserScramCredentials, handleAlterUserScramCredentials as Handler],
  [ApiKey.DescribeClientQuotas, handleDescribeClientQuotas as Handler],
  [ApiKey.AlterClientQuotas, handleAlterClientQuotas as Handler],
  [ApiKey.OffsetForLeaderEpoch, handleOffsetForLeaderEpoch as Handler],
  [ApiKey.IncrementalAlterConfigs, handleIncrementalAlterConfigs as Handler],
  [ApiKey.AddPartitionsToTxn, handleAddPartitionsToTxn as Handler],
  [ApiKey.AddOffsetsToTxn, handleAddOffsetsToTxn as Handler],
  [ApiKey.EndTxn, handleEndTxn as Handler],
  [ApiKey.TxnOffsetCommit, handleTxnOffsetCommit as Handler],
  [ApiKey.DescribeProducers, handleDescribeProducers as Handler],
  [ApiKey.DescribeTransactions, handleDescribeTransactions as Handler],
  [ApiKey.ListTransactions, handleListTransactions as Handler],
])
// Quotas measure and throttle every request (quota-throttle.ts).
for (const [apiKey, handler] of handlers) handlers.set(apiKey, withQuotas(apiKey, handler))

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
      tls: c.tls,
      blockedByAlarm: c.produceHold.blocked,
      details: {
        clientId: c.clientId ?? null,
        mechanism: c.principal?.mechanism ?? null,
        responseBytesInFlight: c.responseBytesInFlight,
        pausedFor: c.pausedFor,
        blockedProducer: c.produceHold.blocked,
      },
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

export async function startKafkaListener(ctx: KafkaListenerContext): Promise<KafkaListener> {
  const options = resolveKafkaOptions(ctx.kafka)
  // Before listening: a wildcard bind with nothing to advertise refuses to start rather than mislead clients.
  const advertisedHost = advertisedHostFor(ctx.host, options.advertisedHost)
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
  const throttle = new AlarmThrottle(ctx.alarms, (reason) =>
    ctx.logger.warn({ reason }, reason === null ? 'kafka producers unblocked' : 'kafka producers held by an alarm'),
  )
  const traffic = trafficOf(ctx, 'kafka')
  let state: ServerState | null = null
  const serve = (socket: net.Socket, tls: boolean, principal?: Principal) => {
    if (state === null || socket.destroyed) {
      socket.destroy()
      return
    }
    connections.track(new Connection(state, socket, handlers, { tls, principal }), socket)
  }
  const tcp = await acceptTcp(ctx, connections, (socket) => serve(socket, false)).catch((error) => {
    throttle.close()
    throw error
  })
  const tls = await acceptTls(ctx, connections, (socket) => {
    // A verified client certificate names the principal (SASL, if the client does it, replaces it). The
    // socket is not read until the Connection listens, so nothing is missed meanwhile.
    if (peerCertificateSubject(socket) === undefined) {
      serve(socket, true)
      return
    }
    const attempt = {
      security: ctx.broker.security,
      logger: ctx.logger,
      protocol: 'kafka',
      socket,
      mechanism: 'SSL',
      traffic,
    }
    certificateLogin(attempt).then(
      (principal) => serve(socket, true, principal),
      () => socket.destroy(),
    )
  }).catch(async (error) => {
    throttle.close()
    await tcp?.close()
    throw error
  })
  state = {
    broker: ctx.broker,
    options,
    logger: ctx.logger,
    advertisedHost,
    plainPort: tcp?.port,
    tlsPort: tls?.port,
    throttle,
    traffic,
    connections,
    topicIds: new TopicIds(ctx.broker),
    fetchSessions: new FetchSessionCache({
      slots: options.fetchSessionCacheSlots,
      partitionsMax: options.fetchSessionPartitionsMax,
      evictionMs: options.fetchSessionEvictionMs,
    }),
    groupLoads: GroupLoads.of(ctx.broker, ctx.logger),
  }
  const stopRoutingTransactions = routeTransactions(ctx.broker)
  const hostForUrl = advertisedHost.includes(':') ? `[${advertisedHost}]` : advertisedHost
  ctx.logger.info(
    { port: tcp?.port, tlsPort: tls?.port, advertisedHost, autoCreateTopics: options.autoCreateTopics },
    'kafka listening',
  )
  const urls: string[] = []
  if (tcp !== undefined) urls.push(`kafka://${hostForUrl}:${tcp.port}`)
  if (tls !== undefined) urls.push(`kafka+ssl://${hostForUrl}:${tls.port}`)
  return {
    name: 'kafka',
    port: listenerPort(tcp, tls),
    tlsPort: tls?.port,
    plainPort: tcp?.port,
    advertisedHost,
    urls,
    connections,
    get connectionCount() {
      return connections.size
    },
    fetchSessions: state.fetchSessions,
    get blockedPublisherCount() {
      let n = 0
      for (const c of connections) if (c.produceHold.blocked) n++
      return n
    },
    async close() {
      throttle.close()
      state?.groupLoads?.close()
      stopRoutingTransactions()
      const closing = Promise.all([tcp?.close(), tls?.close()])
      connections.closeAll('shutdown')
      await closing
    },
  }
}
