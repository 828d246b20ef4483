// `wharf start`: its flags (one per setting, with the defaults in the help) and the running broker. Loaded only
// when the command line asks for `start`: the settings' defaults come from every protocol, so importing this
// loads the whole server, which the admin verbs (`wharf queues list` and the rest) do not need.
import type { Command } from 'commander'
import { defaultConfig, flagName, loadConfig, type WharfConfig } from '../server/config.js'
import { startServer } from '../server/server.js'
import { createLogger } from '../util/logger.js'

type PortKey =
  | 'kafkaPort'
  | 'amqpPort'
  | 'mqttPort'
  | 'stompPort'
  | 'httpPort'
  | 'kafkaTlsPort'
  | 'amqpTlsPort'
  | 'mqttTlsPort'
  | 'stompTlsPort'
  | 'httpsPort'

/** Every setting but the ports as a `wharf start` flag (--kebab-case of the key): its value placeholder and help. */
const START_FLAGS: Record<Exclude<keyof WharfConfig, PortKey>, readonly [placeholder: string, help: string]> = {
  dataDir: ['dir', `data directory (default ${defaultConfig.dataDir})`],
  storage: ['local|url', 'storage engine: local (files in the data directory) or postgres://user:pass@host:port/db'],
  nodeId: ['n', "this broker's id in a cluster over one postgres:// storage (distinct per broker; unset: one broker)"],
  clusterLeaseMs: [
    'ms',
    "with --node-id: a broker's lease; its partitions move this long after it dies (default 6000)",
  ],
  clusterHeartbeatMs: ['ms', 'with --node-id: how often the lease is renewed (default 1500; at most half the lease)'],
  host: ['host', `listen address (default ${defaultConfig.host})`],
  logLevel: ['level', 'fatal|error|warn|info|debug|trace|silent (default info)'],
  logFormat: ['format', 'pretty|json (default: pretty when stdout is a terminal, else json)'],
  durability: ['policy', 'default fsync policy: always|interval|never'],
  kafkaAutoCreateTopics: ['bool', 'create unknown topics on Metadata/Produce (default true)'],
  kafkaDefaultPartitions: ['n', 'partitions of auto-created topics (default 1)'],
  kafkaAdvertisedHost: [
    'host',
    'host advertised in Kafka Metadata (default: the listen host; for 0.0.0.0, the first non-internal IPv4)',
  ],
  kafkaConnectionsMaxIdleMs: ['ms', 'close Kafka connections idle this long (0 = never; default 600000)'],
  kafkaTransactionalIdExpirationMs: [
    'ms',
    'forget a Kafka transactional id with no transaction for this long (default 604800000, 7 days)',
  ],
  quotaWindowSamples: ['n', 'client quota rates are measured over this many samples (at least 2; default 11)'],
  quotaWindowSampleMs: ['ms', 'length of one client quota sample (default 1000)'],
  diskFreeLimitBytes: ['n', 'raise the disk alarm (block publishers) below this much free space'],
  memoryHighWatermarkBytes: [
    'n',
    'raise the memory alarm above this much heap + buffer memory in use, after a GC (0 = off)',
  ],
  alarmIntervalMs: ['n', 'how often the disk and memory alarms are measured (default 1000)'],
  connectionsMax: ['n', 'open client connections per listener before new ones are dropped'],
  connectionsPerAddressMax: ['n', 'open connections per listener from one address (default 1000)'],
  anonymous: ['auto|true|false', 'let clients without credentials in (auto: only on loopback with no users)'],
  defaultPermission: ['allow|deny', 'what a user may do where no ACL allow rule names them'],
  users: ['json', 'users to create at start, as the config file lists them (JSON array)'],
  acls: ['json', 'ACL rules to add at start (JSON array)'],
  tlsCertFile: ['file', 'PEM server certificate (chain); TLS listeners start when set'],
  tlsKeyFile: ['file', 'PEM private key of the certificate'],
  tlsCaFile: ['file', 'PEM CA bundle client certificates must chain to'],
  tlsClientAuth: ['mode', 'client certificates: none|request|require (default none)'],
  sqsBaseUrl: ['url', 'base of SQS queue URLs (default: the address each request came in on)'],
  httpHeadersTimeoutMs: ['ms', 'HTTP: close a connection whose request headers take longer'],
  httpRequestTimeoutMs: ['ms', 'HTTP: close a connection whose whole request (body) takes longer'],
  httpKeepAliveTimeoutMs: ['ms', 'HTTP: close an idle keep-alive connection after this long'],
  httpBodiesBytesMax: ['n', 'HTTP: bytes of request bodies held at once, beyond: 503 (default 64 MiB; 0 = none)'],
  rateSampleMs: ['ms', 'dashboard rate history: sample every (default 5000, at least 100)'],
  rateHistoryMs: ['ms', 'dashboard rate history: keep this long (default 3600000, at most 10000 samples)'],
  publicMetrics: ['bool', '/metrics, /healthz, /readyz without credentials (default true)'],
  mqttQueuedBytesMax: ['n', 'payload bytes an MQTT session holds for an offline or stalled client (default 32 MiB)'],
  mqttQueueQos0Messages: ['bool', 'an offline persistent MQTT session keeps QoS 0 messages too (default false)'],
  mqttInflightBytesMax: ['n', 'payload bytes of a clean MQTT session in flight (default 16 MiB)'],
  mqttRetainedBytesMax: ['n', 'bytes of all MQTT retained messages (default 64 MiB)'],
  mqttRetainedMessageBytesMax: ['n', 'bytes of one MQTT retained message (default 1 MiB)'],
  mqttConnectTimeoutMs: ['n', 'close MQTT connections that send no CONNECT within this (default 10000)'],
  amqpDeliveryBufferBytes: [
    'n',
    'AMQP: pause deliveries while a connection has this many bytes unread (default 1 MiB)',
  ],
  amqpPendingBodyBytes: ['n', 'AMQP: body bytes a connection may hold unpublished, else 506 (default 64 MiB)'],
  amqpPublishInflightBytes: [
    'n',
    'AMQP: stop reading a publisher with this many body bytes unconfirmed (default 16 MiB)',
  ],
  stompFrameBytesMax: ['n', 'largest STOMP frame, bytes; a larger one gets ERROR (default 16 MiB + 64 KiB)'],
  stompHeadersMax: ['n', 'most header lines in one STOMP frame (default 1000)'],
  stompHeaderBytesMax: ['n', 'longest STOMP header line, bytes (default 10240)'],
  stompBodyBytesMax: ['n', 'largest STOMP body, bytes (default 16 MiB)'],
  stompUnackedBytesMax: ['n', 'body bytes a STOMP connection holds unacknowledged (default 32 MiB)'],
  stompConnectTimeoutMs: ['n', 'close STOMP connections that send no CONNECT within this (default 10000)'],
  stompRedeliveryMax: ['n', 'queues STOMP creates: redeliveries before dead-lettering (default 6; 0 = no limit)'],
  stompRedeliveryDelayMs: ['ms', 'queues STOMP creates: wait before a redelivery (default 0)'],
  stompRedeliveryBackoff: ['n', 'queues STOMP creates: each redelivery waits this many times longer (default 1)'],
  stompRedeliveryDelayMaxMs: ['ms', 'queues STOMP creates: longest wait before a redelivery (default 3600000)'],
  stompDeadLetterStrategy: [
    'shared|individual|none',
    'dead letters of STOMP queues: one shared DLQ, DLQ.<queue>, or dropped',
  ],
  stompDeadLetterQueue: ['name', 'the shared dead-letter queue (default ActiveMQ.DLQ)'],
  scheduledJobsMax: ['n', `scheduled jobs (period/repeat/cron) at once (default ${defaultConfig.scheduledJobsMax})`],
  scheduledBytesMax: ['n', 'message bytes of all scheduled jobs, held in memory (default 64 MiB)'],
  deliveryDelayMaxMs: ['ms', 'longest delivery delay or schedule period (default 31536000000, a year)'],
  topicWildcardsMax: ['n', `most '#' in one AMQP topic binding key (default ${defaultConfig.topicWildcardsMax})`],
  schemaBytesMax: ['n', `largest schema the registry accepts, bytes (default ${defaultConfig.schemaBytesMax})`],
  schemaDepthMax: ['n', `deepest JSON nesting of a registered schema (default ${defaultConfig.schemaDepthMax})`],
}

/** Longest a stop (SIGTERM, SIGINT) may take before the process exits anyway, with code 1. */
const STOP_BOUND_MS = 30_000
/** How long a stopped broker lets the event loop drain before it exits. */
const EXIT_DRAIN_MS = 1000

export function configureStart(start: Command): void {
  start.option('-c, --config <file>', 'JSON config file')
  for (const [key, [placeholder, help]] of Object.entries(START_FLAGS))
    start.option(`--${flagName(key as keyof WharfConfig)} <${placeholder}>`, help)
  for (const key of ['kafkaPort', 'amqpPort', 'mqttPort', 'stompPort', 'httpPort'] as const satisfies PortKey[]) {
    start.option(
      `--${flagName(key)} <port>`,
      `${key.replace('Port', '')} plaintext port, 0 turns it off (default ${defaultConfig[key]})`,
    )
  }
  for (const key of [
    'kafkaTlsPort',
    'amqpTlsPort',
    'mqttTlsPort',
    'stompTlsPort',
    'httpsPort',
  ] as const satisfies PortKey[]) {
    start.option(
      `--${flagName(key)} <port>`,
      `TLS port when TLS is configured, 0 turns it off (default ${defaultConfig[key]})`,
    )
  }
  start.action(async (options: Partial<WharfConfig> & { config?: string }) => {
    const { config: configFile, ...flags } = options
    const config = loadConfig({ configFile, flags })
    const logger = createLogger({ level: config.logLevel, format: config.logFormat })
    // A stray promise rejection is a bug to report, not a reason to drop every client's connection.
    process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'))
    const server = await startServer(config, logger)
    // Listeners keep the event loop alive once they exist; until then this timer does.
    const keepAlive = setInterval(() => {}, 1 << 30)
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        clearInterval(keepAlive)
        logger.info({ signal }, 'stopping')
        // The storage bounds its own wait for a database that is down (only unacknowledged work is dropped);
        // this bounds the whole stop, whatever else waits. Unref'd: a stop that finishes is not delayed.
        setTimeout(() => {
          logger.error({ boundMs: STOP_BOUND_MS }, 'stop did not finish in time; exiting')
          process.exit(1)
        }, STOP_BOUND_MS).unref()
        server.close().then(resolve, (error) => {
          logger.error({ err: error }, 'error while stopping')
          process.exitCode = 1
          resolve()
        })
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      // Certificates are renewed in place: SIGHUP re-reads them; open connections keep the old one.
      process.on('SIGHUP', () => {
        try {
          server.reloadTls()
          logger.info('TLS certificates reloaded')
        } catch (error) {
          logger.error({ err: (error as Error).message }, 'TLS reload failed; the previous certificate stays in use')
        }
      })
    })
    // A query left on a database that stopped answering ends only at its timeout; once stopped, it must not keep
    // the process alive.
    setTimeout(() => process.exit(), EXIT_DRAIN_MS).unref()
  })
}
