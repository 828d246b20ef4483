// One way to configure everything: defaults < config file < environment (WHARF_*) < command-line flags.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { topicWildcardsMaxDefault } from '../broker/routing/router.js'
import { defaultScheduleLimits } from '../broker/schedule/limits.js'
import { schemaBytesMaxDefault, schemaDepthMaxDefault } from '../broker/schema/index.js'
import type { ConfiguredUser } from '../broker/security/security.js'
import { amqpLimitDefaults } from '../protocols/amqp/listener.js'
import type { ClientAuth } from '../protocols/common/tls.js'
import { RATE_HISTORY_MS, RATE_SAMPLE_MS } from '../protocols/http/admin/rates.js'
import { HTTP_BODIES_BYTES_MAX_DEFAULT } from '../protocols/http/body-budget.js'
import {
  HTTP_HEADERS_TIMEOUT_MS,
  HTTP_KEEP_ALIVE_TIMEOUT_MS,
  HTTP_REQUEST_TIMEOUT_MS,
} from '../protocols/http/listener.js'
import { type DeadLetterStrategy, defaultStompLimits } from '../protocols/stomp/index.js'
import { WharfError } from '../util/errors.js'
import {
  type ClusterConfig,
  checkClusterCombinations,
  clusterConfigDefaults,
  clusterConfigKinds,
} from './cluster-config.js'
import { checkCombinations, coerce, envName, type Kind } from './config-values.js'

export { envName, flagName, settingNames } from './config-values.js'

import type { LogFormat, logLevels } from '../util/logger.js'
import { memoryAvailable } from '../util/memory.js'

/** Every setting; the cluster ones (nodeId, clusterLeaseMs, clusterHeartbeatMs) are in cluster-config.ts. */
export interface WharfConfig extends ClusterConfig {
  dataDir: string
  /** Where streams, cursors and the catalog live: `local` (files in dataDir) or a postgres:// URL. */
  storage: string
  host: string
  /** Plaintext ports; 0 turns one off (the protocol still serves its TLS port when TLS is configured). */
  kafkaPort: number
  amqpPort: number
  mqttPort: number
  stompPort: number
  httpPort: number
  logLevel: (typeof logLevels)[number]
  /** pretty: one readable line per record; json: one JSON object per line; auto: pretty on a terminal. */
  logFormat: LogFormat
  /** fsync policy for streams created without one. */
  durability: 'always' | 'interval' | 'never'
  /** Kafka auto.create.topics.enable. */
  kafkaAutoCreateTopics: boolean
  /** Kafka num.partitions for auto-created topics. */
  kafkaDefaultPartitions: number
  /** Host advertised in Kafka Metadata; empty = the listen host (for 0.0.0.0/::, the first non-internal IPv4). */
  kafkaAdvertisedHost: string
  /** Kafka connections.max.idle.ms: a connection without requests or I/O for this long is closed; 0 = never. */
  kafkaConnectionsMaxIdleMs: number
  /** Kafka transactional.id.expiration.ms: a transactional id with no transaction for this long is forgotten. */
  kafkaTransactionalIdExpirationMs: number
  /** Client quotas: samples their rates are measured over (Kafka quota.window.num; at least 2). */
  quotaWindowSamples: number
  /** Client quotas: length of one sample, ms (Kafka quota.window.size.seconds × 1000). */
  quotaWindowSampleMs: number
  /** Free bytes on the data directory's file system below which the disk alarm blocks publishers; 0 = off. */
  diskFreeLimitBytes: number
  /**
   * Memory in use (V8 heap used + external: Buffers, ArrayBuffers), confirmed after a full GC, above which the
   * memory alarm blocks publishers; 0 = off. Not RSS, which keeps freed pages (see util/memory.ts).
   */
  memoryHighWatermarkBytes: number
  /** How often the disk and memory alarms are measured (ms). */
  alarmIntervalMs: number
  /** Open client connections per listener beyond which new ones are dropped at accept. */
  connectionsMax: number
  /** Open client connections per listener from one source address (loopback too) beyond which new ones are dropped. */
  connectionsPerAddressMax: number
  /** Clients that present no identity act as User:ANONYMOUS; auto = only on a loopback bind with no users configured. */
  anonymous: 'auto' | boolean
  /** What a principal may do where no ACL allow rule names it (deny rules always win). */
  defaultPermission: 'allow' | 'deny'
  /** Users created or updated at start (bootstrap); others are managed by CLI, REST, dashboard or Kafka APIs. */
  users: ConfiguredUser[]
  /** ACL rules added at start. */
  acls: Array<Record<string, unknown>>
  /** PEM files; TLS listeners start only when both are set. The config file may group these as "tls": {...}. */
  tlsCertFile: string
  tlsKeyFile: string
  tlsCaFile: string
  tlsClientAuth: ClientAuth
  /** TLS ports, used only when TLS is configured; 0 turns one off, independently of the plaintext port. */
  kafkaTlsPort: number
  amqpTlsPort: number
  mqttTlsPort: number
  stompTlsPort: number
  httpsPort: number
  /** /metrics, /healthz and /readyz answer without credentials. */
  publicMetrics: boolean
  /** Payload bytes an MQTT session holds for an offline or stalled client (Mosquitto's max_queued_bytes). */
  mqttQueuedBytesMax: number
  /** Mosquitto's queue_qos0_messages: an offline persistent MQTT session keeps QoS 0 messages too. */
  mqttQueueQos0Messages: boolean
  /** Payload bytes of a clean MQTT session's unacknowledged QoS 1/2 deliveries (one message always fits). */
  mqttInflightBytesMax: number
  /** Bytes of all MQTT retained messages (held in memory); beyond, a new retained message is not retained. */
  mqttRetainedBytesMax: number
  /** Bytes of one MQTT retained message; a larger one is delivered but not retained. */
  mqttRetainedMessageBytesMax: number
  /** An MQTT connection that has not sent CONNECT within this long is closed. */
  mqttConnectTimeoutMs: number
  /** AMQP per-connection bounds: deliveryBufferBytes, pendingBodyBytes, publishInflightBytes (AmqpListenerOptions). */
  amqpDeliveryBufferBytes: number
  amqpPendingBodyBytes: number
  amqpPublishInflightBytes: number
  /** STOMP frame bounds: a whole frame, header lines, one header line, one body (bytes); beyond → ERROR, close. */
  stompFrameBytesMax: number
  stompHeadersMax: number
  stompHeaderBytesMax: number
  stompBodyBytesMax: number
  /** Body bytes of one STOMP connection's unacknowledged deliveries beyond which no more are sent. */
  stompUnackedBytesMax: number
  /** A STOMP connection that has not sent CONNECT within this long is closed. */
  stompConnectTimeoutMs: number
  /**
   * Redelivery policy of the queues STOMP creates (protocols/stomp/connection/redelivery.ts): redeliveries before
   * dead-lettering (0 = no limit), the delay before a redelivery and its backoff and cap, where dead letters go.
   */
  stompRedeliveryMax: number
  stompRedeliveryDelayMs: number
  stompRedeliveryBackoff: number
  stompRedeliveryDelayMaxMs: number
  stompDeadLetterStrategy: DeadLetterStrategy
  stompDeadLetterQueue: string
  /** The scheduler's bounds: jobs, bytes of their messages (held in memory), the longest delay or period (ms). */
  scheduledJobsMax: number
  scheduledBytesMax: number
  deliveryDelayMaxMs: number
  /** Base of SQS queue URLs (`https://sqs.example.com`); empty = the address and port each request came in on. */
  sqsBaseUrl: string
  /** HTTP listener: ms to receive a request's headers, the whole request (body included), and keep-alive idle. */
  httpHeadersTimeoutMs: number
  httpRequestTimeoutMs: number
  httpKeepAliveTimeoutMs: number
  /** HTTP listener: bytes of request bodies held at once (beyond: 503); 0 = no budget. */
  httpBodiesBytesMax: number
  /** The admin API's rate history (GET /api/v1/rates, the dashboard's charts): sampled this often, kept this long. */
  rateSampleMs: number
  rateHistoryMs: number
  /** Most '#' wildcards in one AMQP topic binding key. */
  topicWildcardsMax: number
  /** Most UTF-8 bytes in one schema the registry accepts. */
  schemaBytesMax: number
  /** Most nested JSON objects and arrays in one schema the registry accepts. */
  schemaDepthMax: number
}

export const defaultConfig: WharfConfig = {
  dataDir: './data',
  storage: 'local',
  ...clusterConfigDefaults,
  host: '127.0.0.1',
  kafkaPort: 9092,
  amqpPort: 5672,
  mqttPort: 1883,
  stompPort: 61613,
  httpPort: 8080,
  logLevel: 'info',
  logFormat: 'auto',
  durability: 'always',
  kafkaAutoCreateTopics: true,
  kafkaDefaultPartitions: 1,
  kafkaAdvertisedHost: '',
  kafkaConnectionsMaxIdleMs: 600_000,
  kafkaTransactionalIdExpirationMs: 7 * 24 * 3_600_000,
  quotaWindowSamples: 11,
  quotaWindowSampleMs: 1000,
  // RabbitMQ's disk_free_limit default: small enough for a laptop, still a margin before ENOSPC.
  diskFreeLimitBytes: 50 * 1024 * 1024,
  // RabbitMQ's vm_memory_high_watermark default: 40% of the memory this process may use (the cgroup limit
  // in a container). Transient queues live in memory, so this is what bounds them.
  memoryHighWatermarkBytes: Math.floor(0.4 * memoryAvailable()),
  // A check is a statfs and a heap reading; every second keeps in-memory queues from running far past the mark.
  alarmIntervalMs: 1000,
  connectionsMax: 100_000,
  connectionsPerAddressMax: 1000,
  anonymous: 'auto',
  defaultPermission: 'allow',
  users: [],
  acls: [],
  tlsCertFile: '',
  tlsKeyFile: '',
  tlsCaFile: '',
  tlsClientAuth: 'none',
  kafkaTlsPort: 9093,
  amqpTlsPort: 5671,
  mqttTlsPort: 8883,
  stompTlsPort: 61614,
  httpsPort: 8443,
  publicMetrics: true,
  mqttQueuedBytesMax: 32 * 1024 * 1024,
  mqttQueueQos0Messages: false,
  mqttInflightBytesMax: 16 * 1024 * 1024,
  mqttRetainedBytesMax: 64 * 1024 * 1024,
  mqttRetainedMessageBytesMax: 1024 * 1024,
  mqttConnectTimeoutMs: 10_000,
  amqpDeliveryBufferBytes: amqpLimitDefaults.deliveryBufferBytes,
  amqpPendingBodyBytes: amqpLimitDefaults.pendingBodyBytes,
  amqpPublishInflightBytes: amqpLimitDefaults.publishInflightBytes,
  stompFrameBytesMax: defaultStompLimits.frameBytesMax,
  stompHeadersMax: defaultStompLimits.headersMax,
  stompHeaderBytesMax: defaultStompLimits.headerBytesMax,
  stompBodyBytesMax: defaultStompLimits.bodyBytesMax,
  stompUnackedBytesMax: defaultStompLimits.unackedBytesMax,
  stompConnectTimeoutMs: defaultStompLimits.connectTimeoutMs,
  stompRedeliveryMax: defaultStompLimits.redeliveryMax,
  stompRedeliveryDelayMs: defaultStompLimits.redeliveryDelayMs,
  stompRedeliveryBackoff: defaultStompLimits.redeliveryBackoff,
  stompRedeliveryDelayMaxMs: defaultStompLimits.redeliveryDelayMaxMs,
  stompDeadLetterStrategy: defaultStompLimits.deadLetterStrategy,
  stompDeadLetterQueue: defaultStompLimits.deadLetterQueue,
  scheduledJobsMax: defaultScheduleLimits.jobsMax,
  scheduledBytesMax: defaultScheduleLimits.bytesMax,
  deliveryDelayMaxMs: defaultScheduleLimits.delayMaxMs,
  sqsBaseUrl: '',
  httpHeadersTimeoutMs: HTTP_HEADERS_TIMEOUT_MS,
  httpRequestTimeoutMs: HTTP_REQUEST_TIMEOUT_MS,
  httpKeepAliveTimeoutMs: HTTP_KEEP_ALIVE_TIMEOUT_MS,
  httpBodiesBytesMax: HTTP_BODIES_BYTES_MAX_DEFAULT,
  rateSampleMs: RATE_SAMPLE_MS,
  rateHistoryMs: RATE_HISTORY_MS,
  topicWildcardsMax: topicWildcardsMaxDefault,
  schemaBytesMax: schemaBytesMaxDefault,
  schemaDepthMax: schemaDepthMaxDefault,
}

const schema: Record<keyof WharfConfig, Kind> = {
  dataDir: 'string',
  storage: 'string',
  ...clusterConfigKinds,
  host: 'host',
  kafkaPort: 'port',
  amqpPort: 'port',
  mqttPort: 'port',
  stompPort: 'port',
  httpPort: 'port',
  logLevel: 'logLevel',
  logFormat: 'logFormat',
  durability: 'durability',
  kafkaAutoCreateTopics: 'boolean',
  kafkaDefaultPartitions: 'partitions',
  kafkaAdvertisedHost: 'optionalString',
  kafkaConnectionsMaxIdleMs: 'milliseconds',
  kafkaTransactionalIdExpirationMs: 'count',
  quotaWindowSamples: 'count',
  quotaWindowSampleMs: 'count',
  diskFreeLimitBytes: 'bytes',
  memoryHighWatermarkBytes: 'bytes',
  alarmIntervalMs: 'count',
  connectionsMax: 'count',
  connectionsPerAddressMax: 'count',
  anonymous: 'autoBoolean',
  defaultPermission: 'permission',
  users: 'list',
  acls: 'list',
  tlsCertFile: 'optionalString',
  tlsKeyFile: 'optionalString',
  tlsCaFile: 'optionalString',
  tlsClientAuth: 'clientAuth',
  kafkaTlsPort: 'port',
  amqpTlsPort: 'port',
  mqttTlsPort: 'port',
  stompTlsPort: 'port',
  httpsPort: 'port',
  publicMetrics: 'boolean',
  mqttQueuedBytesMax: 'count',
  mqttQueueQos0Messages: 'boolean',
  mqttInflightBytesMax: 'count',
  mqttRetainedBytesMax: 'count',
  mqttRetainedMessageBytesMax: 'count',
  mqttConnectTimeoutMs: 'count',
  amqpDeliveryBufferBytes: 'count',
  amqpPendingBodyBytes: 'count',
  amqpPublishInflightBytes: 'count',
  stompFrameBytesMax: 'count',
  stompHeadersMax: 'count',
  stompHeaderBytesMax: 'count',
  stompBodyBytesMax: 'count',
  stompUnackedBytesMax: 'count',
  stompConnectTimeoutMs: 'count',
  stompRedeliveryMax: 'countOrZero',
  stompRedeliveryDelayMs: 'milliseconds',
  stompRedeliveryBackoff: 'count',
  stompRedeliveryDelayMaxMs: 'milliseconds',
  stompDeadLetterStrategy: 'deadLetterStrategy',
  stompDeadLetterQueue: 'string',
  scheduledJobsMax: 'count',
  scheduledBytesMax: 'count',
  deliveryDelayMaxMs: 'count',
  sqsBaseUrl: 'optionalString',
  httpHeadersTimeoutMs: 'count',
  httpRequestTimeoutMs: 'count',
  httpKeepAliveTimeoutMs: 'count',
  httpBodiesBytesMax: 'bytes',
  rateSampleMs: 'count',
  rateHistoryMs: 'count',
  topicWildcardsMax: 'count',
  schemaBytesMax: 'count',
  schemaDepthMax: 'count',
}

/** Settings that name files: resolved against the config file's directory, or the working directory. */
const tlsFileKeys = ['tlsCertFile', 'tlsKeyFile', 'tlsCaFile'] as const

/** The file's "tls": {certFile, keyFile, caFile, clientAuth} group, as flat tls* keys. */
function flattenTls(values: Record<string, unknown>, source: string): Record<string, unknown> {
  const { tls, ...rest } = values
  if (tls === undefined) return values
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls))
    throw new WharfError('INVALID_CONFIG', `${source}: tls must be an object {certFile, keyFile, caFile, clientAuth}`)
  const out: Record<string, unknown> = { ...rest }
  for (const [key, value] of Object.entries(tls)) {
    const flat = `tls${key[0]?.toUpperCase()}${key.slice(1)}`
    if (!(flat in schema)) throw new WharfError('INVALID_CONFIG', `${source}: unknown tls setting '${key}'`)
    out[flat] = value
  }
  return out
}

function apply(target: WharfConfig, values: Record<string, unknown>, source: string): void {
  for (const [key, value] of Object.entries(flattenTls(values, source))) {
    if (!(key in schema)) throw new WharfError('INVALID_CONFIG', `${source}: unknown setting '${key}'`)
    if (value === undefined) continue
    ;(target as unknown as Record<string, unknown>)[key] = coerce(schema[key as keyof WharfConfig], key, value, source)
  }
}

export interface ConfigSources {
  /** Path of a JSON config file (flag --config or WHARF_CONFIG). */
  configFile?: string | undefined
  env?: NodeJS.ProcessEnv
  flags?: Partial<Record<keyof WharfConfig, unknown>>
  cwd?: string
}

/**
 * The data directory when none is configured: systemd's StateDirectory= (it sets $STATE_DIRECTORY, a
 * colon-separated list), else ./data under the working directory; but not when that is `/` (a service
 * manager's default), where ./data would quietly become /data.
 */
function defaultDataDir(cwd: string, env: NodeJS.ProcessEnv): string {
  const state = env.STATE_DIRECTORY?.split(':')[0]
  if (state) return resolve(cwd, state)
  if (resolve(cwd) === '/') {
    throw new WharfError(
      'INVALID_CONFIG',
      'no data directory is configured and the working directory is / (as for a service): ' +
        'set --data-dir DIR (or WHARF_DATA_DIR, or StateDirectory= in a systemd unit)',
    )
  }
  return resolve(cwd, defaultConfig.dataDir)
}

export function loadConfig(sources: ConfigSources = {}): WharfConfig {
  const env = sources.env ?? process.env
  const cwd = sources.cwd ?? process.cwd()
  const config: WharfConfig = { ...defaultConfig }
  const file = sources.configFile ?? env.WHARF_CONFIG
  let dataDirGiven = false
  if (file) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new WharfError('INVALID_CONFIG', `config file ${file}: ${(error as Error).message}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new WharfError('INVALID_CONFIG', `config file ${file}: must contain a JSON object`)
    }
    apply(config, parsed as Record<string, unknown>, `config file ${file}`)
    dataDirGiven = (parsed as Record<string, unknown>).dataDir !== undefined
    // Certificate paths in a config file are relative to that file, as its author sees them.
    const base = dirname(resolve(cwd, file))
    for (const key of tlsFileKeys) if (config[key] !== '') config[key] = resolve(base, config[key])
  }
  const fromEnv: Record<string, unknown> = {}
  for (const key of Object.keys(schema) as Array<keyof WharfConfig>) {
    const value = env[envName(key)]
    if (value !== undefined && value !== '') fromEnv[key] = value
  }
  apply(config, fromEnv, 'environment')
  apply(config, sources.flags ?? {}, 'flags')
  dataDirGiven ||= fromEnv.dataDir !== undefined || sources.flags?.dataDir !== undefined
  config.dataDir = dataDirGiven ? resolve(cwd, config.dataDir) : defaultDataDir(cwd, env)
  for (const key of tlsFileKeys) if (config[key] !== '') config[key] = resolve(cwd, config[key])
  checkCombinations(config)
  checkClusterCombinations(config)
  return config
}
