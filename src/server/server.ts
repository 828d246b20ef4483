// Process wiring: opens the data directory and the broker, then starts every enabled protocol listener.
import type { Broker } from '../broker/broker.js'
import { createBroker } from '../index.js'
import { type AmqpListenerOptions, startAmqpListener } from '../protocols/amqp/index.js'
import { startSharedAmqp10Listener } from '../protocols/amqp10/index.js'
import type { Listener, ListenerContext as ProtocolListenerContext } from '../protocols/common/listener.js'
import { TrafficMetrics } from '../protocols/common/metrics.js'
import type { TlsCredentials } from '../protocols/common/tls.js'
import { startHttpListener } from '../protocols/http/listener.js'
import { startKafkaListener } from '../protocols/kafka/index.js'
import { type MqttLimits, startMqttListener } from '../protocols/mqtt/index.js'
import { type StompLimits, startStompListener } from '../protocols/stomp/index.js'
import type { Logger } from '../util/logger.js'
import { wharfVersion } from '../util/version.js'
import { checkListenHost, listenFailure, usableUrls } from './addresses.js'
import { type AlarmMonitor, type AlarmSource, createAlarmMonitor } from './alarms.js'
import { clusterBanner, clusterEndpoints } from './cluster.js'
import { LINK_ENDPOINT, startClusterLink } from './cluster-link/index.js'
import type { WharfConfig } from './config.js'
import { configureSecurity, tlsCredentials } from './security.js'

export type { Listener }

/** The protocol listener context with everything the server always provides. */
export interface ListenerContext extends ProtocolListenerContext {
  config: WharfConfig
  /** Listeners started before this one (the HTTP listener starts first). */
  started: ReadonlyMap<string, Listener>
  /** Kafka listener settings (from the one config path: defaults < file < WHARF_* < flags). */
  kafka: {
    autoCreateTopics: boolean
    defaultPartitions: number
    advertisedHost: string | null
    connectionsMaxIdleMs: number
  }
  /** Process-level resource alarms (disk, memory); listeners that can throttle publishers follow them. */
  alarms: AlarmSource
  /** MQTT bounds set by the config (the rest keep the adapter's defaults). */
  mqttLimits: Partial<MqttLimits>
  /** AMQP per-connection bounds set by the config. */
  amqpLimits: AmqpListenerOptions
  /** STOMP bounds set by the config (the rest keep the adapter's defaults). */
  stompLimits: Partial<StompLimits>
}

/** A host as it stands in a URL (IPv6 literals bracketed). */
function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

export type ListenerFactory = (context: ListenerContext) => Promise<Listener>

/**
 * Protocol listeners, started in this order (HTTP first, so MQTT can serve WebSocket on its port).
 * Each protocol adapter adds exactly one entry here.
 */
const listenerFactories: Array<{
  name: string
  portKey: 'httpPort' | 'kafkaPort' | 'amqpPort' | 'mqttPort' | 'stompPort'
  tlsPortKey: 'httpsPort' | 'kafkaTlsPort' | 'amqpTlsPort' | 'mqttTlsPort' | 'stompTlsPort'
  start: ListenerFactory
}> = [
  { name: 'http', portKey: 'httpPort', tlsPortKey: 'httpsPort', start: startHttpListener },
  { name: 'kafka', portKey: 'kafkaPort', tlsPortKey: 'kafkaTlsPort', start: startKafkaListener },
  { name: 'amqp', portKey: 'amqpPort', tlsPortKey: 'amqpTlsPort', start: startAmqpListener },
  // No port of its own: the AMQP listener hands it the connections that open with the AMQP 1.0 header.
  { name: 'amqp10', portKey: 'amqpPort', tlsPortKey: 'amqpTlsPort', start: startSharedAmqp10Listener },
  { name: 'mqtt', portKey: 'mqttPort', tlsPortKey: 'mqttTlsPort', start: startMqttListener },
  { name: 'stomp', portKey: 'stompPort', tlsPortKey: 'stompTlsPort', start: startStompListener },
]

export interface RunningServer {
  readonly config: WharfConfig
  readonly broker: Broker
  readonly listeners: ReadonlyMap<string, Listener>
  readonly alarms: AlarmMonitor
  /** Re-reads the TLS certificate and key (SIGHUP); open connections keep theirs. Throws if the files are bad. */
  reloadTls(): void
  close(): Promise<void>
}

export async function startServer(config: WharfConfig, logger: Logger): Promise<RunningServer> {
  await checkListenHost(config.host)
  // Every listener counts its traffic here; the HTTP listener exports it on /metrics.
  const metrics = new TrafficMetrics()
  const broker = await createBroker({
    onFsync: (seconds) => metrics.fsync.observe(seconds),
    dataDir: config.dataDir,
    storage: config.storage,
    ...(config.nodeId === -1
      ? {}
      : {
          nodeId: config.nodeId,
          clusterLeaseMs: config.clusterLeaseMs,
          clusterHeartbeatMs: config.clusterHeartbeatMs,
        }),
    durability: config.durability,
    warn: (message, details) => logger.warn(details ?? {}, message),
    info: (message, details) => logger.info(details ?? {}, message),
    security: { users: config.users, acls: config.acls },
    topicWildcardsMax: config.topicWildcardsMax,
    quotaWindow: { samples: config.quotaWindowSamples, sampleMs: config.quotaWindowSampleMs },
    producerTransactions: { transactionalIdExpirationMs: config.kafkaTransactionalIdExpirationMs },
    schemaLimits: { bytesMax: config.schemaBytesMax, depthMax: config.schemaDepthMax },
    scheduleLimits: {
      jobsMax: config.scheduledJobsMax,
      bytesMax: config.scheduledBytesMax,
      delayMaxMs: config.deliveryDelayMaxMs,
    },
  })
  const alarms = createAlarmMonitor({
    dataDir: config.dataDir,
    // The disk alarm watches the local engine's data directory; on PostgreSQL the database owns its space.
    diskFreeLimitBytes: config.storage === 'local' ? config.diskFreeLimitBytes : 0,
    memoryHighWatermarkBytes: config.memoryHighWatermarkBytes,
    intervalMs: config.alarmIntervalMs,
    logger: logger.child({ component: 'alarms' }),
  })
  let credentials: TlsCredentials | undefined
  try {
    configureSecurity(broker.security, config, logger)
    credentials = tlsCredentials(config)
  } catch (error) {
    alarms.close()
    await broker.close().catch(() => {}) // the configuration error is the one to report
    throw error
  }
  // Measured once before any listener accepts a client, so a full disk blocks publishers from the start.
  await alarms.check()
  const listeners = new Map<string, Listener>()
  const closeAll = async () => {
    alarms.close()
    for (const listener of [...listeners.values()].reverse()) {
      await listener
        .close()
        .catch((error) => logger.error({ err: error, listener: listener.name }, 'listener close failed'))
    }
    await broker.close()
  }
  try {
    for (const { name, portKey, tlsPortKey, start } of listenerFactories) {
      // The plaintext and TLS ports are independent (0 turns one off): a protocol runs while either is on,
      // so a plaintext port of 0 with a certificate configured makes a TLS-only listener.
      const port = config[portKey]
      const tlsPort = credentials ? config[tlsPortKey] : 0
      if (port === 0 && tlsPort === 0) continue
      const listener = await start({
        ...(tlsPort !== 0 && credentials ? { tls: { port: tlsPort, credentials } } : {}),
        plaintext: port !== 0,
        broker,
        config,
        host: config.host,
        port,
        logger: logger.child({ protocol: name }),
        started: listeners,
        alarms,
        metrics,
        connectionsMax: config.connectionsMax,
        connectionsPerAddressMax: config.connectionsPerAddressMax,
        kafka: {
          autoCreateTopics: config.kafkaAutoCreateTopics,
          defaultPartitions: config.kafkaDefaultPartitions,
          advertisedHost: config.kafkaAdvertisedHost === '' ? null : config.kafkaAdvertisedHost,
          connectionsMaxIdleMs: config.kafkaConnectionsMaxIdleMs,
        },
        mqttLimits: {
          maxQueuedBytesPerSession: config.mqttQueuedBytesMax,
          queueQos0Messages: config.mqttQueueQos0Messages,
          maxInflightBytes: config.mqttInflightBytesMax,
          maxRetainedBytes: config.mqttRetainedBytesMax,
          maxRetainedMessageBytes: config.mqttRetainedMessageBytesMax,
          connectTimeoutMs: config.mqttConnectTimeoutMs,
        },
        amqpLimits: {
          deliveryBufferBytes: config.amqpDeliveryBufferBytes,
          pendingBodyBytes: config.amqpPendingBodyBytes,
          publishInflightBytes: config.amqpPublishInflightBytes,
        },
        stompLimits: {
          frameBytesMax: config.stompFrameBytesMax,
          headersMax: config.stompHeadersMax,
          headerBytesMax: config.stompHeaderBytesMax,
          bodyBytesMax: config.stompBodyBytesMax,
          unackedBytesMax: config.stompUnackedBytesMax,
          connectTimeoutMs: config.stompConnectTimeoutMs,
          redeliveryMax: config.stompRedeliveryMax,
          redeliveryDelayMs: config.stompRedeliveryDelayMs,
          redeliveryBackoff: config.stompRedeliveryBackoff,
          redeliveryDelayMaxMs: config.stompRedeliveryDelayMaxMs,
          deadLetterStrategy: config.stompDeadLetterStrategy,
          deadLetterQueue: config.stompDeadLetterQueue,
        },
      }).catch((error: unknown) => {
        throw listenFailure(error, name, config, portKey, tlsPortKey)
      })
      listeners.set(name, listener)
    }
    if (broker.cluster !== undefined) {
      const link = await startClusterLink({
        broker,
        cluster: broker.cluster,
        host: config.host,
        credentials,
        logger: logger.child({ component: 'cluster-link' }),
      })
      listeners.set(LINK_ENDPOINT, link)
    }
    // Only now are the ports known: the other brokers and their clients learn where this one is.
    await broker.cluster?.advertise(clusterEndpoints(listeners, config.host))
  } catch (error) {
    await closeAll().catch(() => {}) // the start failure is the one to report
    throw error
  }
  // The banner is a log record like any other (`wharf start | jq` reads every line); pretty output shows
  // the URLs as lines under it.
  const urls = usableUrls(
    [...listeners.values()].flatMap((l) => l.urls),
    config.host,
  )
  const http = listeners.get('http')
  const cluster = clusterBanner(broker)
  logger.info(
    {
      version: wharfVersion,
      dataDir: config.dataDir,
      ...(http === undefined
        ? {}
        : {
            // A TLS-only HTTP listener (httpServer absent) serves the dashboard over HTTPS on its port.
            dashboard: usableUrls(
              [`${http.httpServer ? 'http' : 'https'}://${hostInUrl(config.host)}:${http.port}/`],
              config.host,
            )[0],
          }),
      ...(cluster === undefined ? {} : { cluster }),
      streams: broker.listStreams().length,
      queues: broker.listQueues().length,
      urls,
    },
    'wharf ready',
  )
  return {
    config,
    broker,
    listeners,
    alarms,
    reloadTls() {
      credentials?.reload()
    },
    async close() {
      await closeAll()
      logger.info('wharf stopped')
    },
  }
}
