// One way to configure everything: defaults < config file < environment (WHARF_*) < command-line flags.
import { readFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { dirname, resolve } from 'node:path'
import { topicWildcardsMaxDefault } from '../broker/routing/router.js'
import { schemaBytesMaxDefault, schemaDepthMaxDefault } from '../broker/schema/index.js'
import type { ConfiguredUser } from '../broker/security/security.js'
import { type ClientAuth, clientAuthModes } from '../protocols/common/tls.js'
import { RATE_HISTORY_MS, RATE_SAMPLE_MS } from '../protocols/http/admin/rates.js'
import {
  HTTP_HEADERS_TIMEOUT_MS,
  HTTP_KEEP_ALIVE_TIMEOUT_MS,
  HTTP_REQUEST_TIMEOUT_MS,
} from '../protocols/http/listener.js'
import { WharfError } from '../util/errors.js'

export interface WharfConfig {
  dataDir: string
  host: string
  /** 0 disables a listener. */
  kafkaPort: number
  amqpPort: number
  mqttPort: number
  httpPort: number
  logLevel: string
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
  /** TLS ports, used only when TLS is configured; 0 disables one. */
  kafkaTlsPort: number
  amqpTlsPort: number
  mqttTlsPort: number
  httpsPort: number
  /** /metrics, /healthz and /readyz answer without credentials. */
  publicMetrics: boolean
  /** Payload bytes a clean MQTT session's QoS 1/2 messages may hold in memory; beyond, new ones are dropped. */
  mqttQueuedBytesMax: number
  /** Payload bytes of a clean MQTT session's unacknowledged QoS 1/2 deliveries (one message always fits). */
  mqttInflightBytesMax: number
  /** Bytes of all MQTT retained messages (held in memory); beyond, a new retained message is not retained. */
  mqttRetainedBytesMax: number
  /** Bytes of one MQTT retained message; a larger one is delivered but not retained. */
  mqttRetainedMessageBytesMax: number
  /** An MQTT connection that has not sent CONNECT within this long is closed. */
  mqttConnectTimeoutMs: number
  /** Base of SQS queue URLs (`https://sqs.example.com`); empty = the address and port each request came in on. */
  sqsBaseUrl: string
  /** HTTP listener: ms to receive a request's headers, the whole request (body included), and keep-alive idle. */
  httpHeadersTimeoutMs: number
  httpRequestTimeoutMs: number
  httpKeepAliveTimeoutMs: number
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
  host: '127.0.0.1',
  kafkaPort: 9092,
  amqpPort: 5672,
  mqttPort: 1883,
  httpPort: 8080,
  logLevel: 'info',
  durability: 'always',
  kafkaAutoCreateTopics: true,
  kafkaDefaultPartitions: 1,
  kafkaAdvertisedHost: '',
  kafkaConnectionsMaxIdleMs: 600_000,
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
  httpsPort: 8443,
  publicMetrics: true,
  mqttQueuedBytesMax: 32 * 1024 * 1024,
  mqttInflightBytesMax: 16 * 1024 * 1024,
  mqttRetainedBytesMax: 64 * 1024 * 1024,
  mqttRetainedMessageBytesMax: 1024 * 1024,
  mqttConnectTimeoutMs: 10_000,
  sqsBaseUrl: '',
  httpHeadersTimeoutMs: HTTP_HEADERS_TIMEOUT_MS,
  httpRequestTimeoutMs: HTTP_REQUEST_TIMEOUT_MS,
  httpKeepAliveTimeoutMs: HTTP_KEEP_ALIVE_TIMEOUT_MS,
  rateSampleMs: RATE_SAMPLE_MS,
  rateHistoryMs: RATE_HISTORY_MS,
  topicWildcardsMax: topicWildcardsMaxDefault,
  schemaBytesMax: schemaBytesMaxDefault,
  schemaDepthMax: schemaDepthMaxDefault,
}

function memoryAvailable(): number {
  const constrained = process.constrainedMemory?.() ?? 0
  const total = totalmem()
  // constrainedMemory() reports a huge number when there is no limit.
  return constrained > 0 && constrained < total ? constrained : total
}

type Kind = 'string' | 'optionalString' | 'boolean' | 'autoBoolean' | 'list' | EnumKind | NumberKind
type EnumKind = 'durability' | 'permission' | 'clientAuth'
const enums: Record<EnumKind, readonly string[]> = {
  durability: ['always', 'interval', 'never'],
  permission: ['allow', 'deny'],
  clientAuth: clientAuthModes,
}
const schema: Record<keyof WharfConfig, Kind> = {
  dataDir: 'string',
  host: 'string',
  kafkaPort: 'port',
  amqpPort: 'port',
  mqttPort: 'port',
  httpPort: 'port',
  logLevel: 'string',
  durability: 'durability',
  kafkaAutoCreateTopics: 'boolean',
  kafkaDefaultPartitions: 'partitions',
  kafkaAdvertisedHost: 'optionalString',
  kafkaConnectionsMaxIdleMs: 'milliseconds',
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
  httpsPort: 'port',
  publicMetrics: 'boolean',
  mqttQueuedBytesMax: 'count',
  mqttInflightBytesMax: 'count',
  mqttRetainedBytesMax: 'count',
  mqttRetainedMessageBytesMax: 'count',
  mqttConnectTimeoutMs: 'count',
  sqsBaseUrl: 'optionalString',
  httpHeadersTimeoutMs: 'count',
  httpRequestTimeoutMs: 'count',
  httpKeepAliveTimeoutMs: 'count',
  rateSampleMs: 'count',
  rateHistoryMs: 'count',
  topicWildcardsMax: 'count',
  schemaBytesMax: 'count',
  schemaDepthMax: 'count',
}

/** dataDir -> WHARF_DATA_DIR */
export function envName(key: keyof WharfConfig): string {
  return `WHARF_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`
}

/** dataDir -> data-dir (the flag is --data-dir) */
export function flagName(key: keyof WharfConfig): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

type NumberKind = 'port' | 'partitions' | 'bytes' | 'count' | 'milliseconds'

/** The numbers each numeric kind accepts (from a number, or a string as in the environment) and how errors name them. */
const numberKinds: Record<NumberKind, { accepts: (n: number) => boolean; what: string }> = {
  port: { accepts: (n) => Number.isInteger(n) && n >= 0 && n <= 65535, what: 'a port number 0-65535 (0 disables)' },
  partitions: { accepts: (n) => Number.isInteger(n) && n >= 1 && n <= 4096, what: 'an integer 1-4096' },
  bytes: { accepts: (n) => Number.isSafeInteger(n) && n >= 0, what: 'a whole number of bytes (0 disables)' },
  count: { accepts: (n) => Number.isSafeInteger(n) && n >= 1, what: 'a positive integer' },
  milliseconds: { accepts: (n) => Number.isSafeInteger(n) && n >= 0, what: 'a whole number of milliseconds (0 = off)' },
}

function coerce(key: keyof WharfConfig, value: unknown, source: string): unknown {
  const kind = schema[key]
  if (kind === 'autoBoolean' && value === 'auto') return value
  if (kind === 'list') {
    let list = value
    if (typeof value === 'string') {
      try {
        list = JSON.parse(value)
      } catch {
        throw new WharfError('INVALID_CONFIG', `${source}: ${key} must be a JSON array`)
      }
    }
    if (
      !Array.isArray(list) ||
      !list.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))
    )
      throw new WharfError('INVALID_CONFIG', `${source}: ${key} must be an array of objects`)
    return list
  }
  if (kind === 'boolean' || kind === 'autoBoolean') {
    if (typeof value === 'boolean') return value
    if (value === 'true' || value === '1') return true
    if (value === 'false' || value === '0') return false
    throw new WharfError(
      'INVALID_CONFIG',
      `${source}: ${key} must be true or false${kind === 'autoBoolean' ? ' or auto' : ''}, got ${JSON.stringify(value)}`,
    )
  }
  if (kind === 'optionalString') {
    if (typeof value !== 'string') throw new WharfError('INVALID_CONFIG', `${source}: ${key} must be a string`)
    return value
  }
  if (Object.hasOwn(numberKinds, kind)) {
    const { accepts, what } = numberKinds[kind as NumberKind]
    const n = typeof value === 'number' ? value : Number(String(value).trim())
    if (!accepts(n))
      throw new WharfError('INVALID_CONFIG', `${source}: ${key} must be ${what}, got ${JSON.stringify(value)}`)
    return n
  }
  if (typeof value !== 'string' || value === '') {
    throw new WharfError('INVALID_CONFIG', `${source}: ${key} must be a non-empty string`)
  }
  if (Object.hasOwn(enums, kind) && !enums[kind as EnumKind].includes(value)) {
    throw new WharfError('INVALID_CONFIG', `${source}: ${key} must be one of ${enums[kind as EnumKind].join(', ')}`)
  }
  return value
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
    ;(target as unknown as Record<string, unknown>)[key] = coerce(key as keyof WharfConfig, value, source)
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
  if (config.sqsBaseUrl !== '' && !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(config.sqsBaseUrl))
    throw new WharfError('INVALID_CONFIG', `sqsBaseUrl must be an http(s) URL without query, got ${config.sqsBaseUrl}`)
  if ((config.tlsCertFile === '') !== (config.tlsKeyFile === ''))
    throw new WharfError('INVALID_CONFIG', 'TLS needs both tlsCertFile and tlsKeyFile (tls.certFile, tls.keyFile)')
  return config
}
