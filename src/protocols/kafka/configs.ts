// Topic configs under their Kafka names ↔ the broker's StreamConfig. One table: name, how to read it from a
// StreamConfig, how to apply a Kafka string value. DescribeConfigs lists every entry (tools expect the full
// set with defaults); configs Kafka has but Wharf does not model are listed read-only at Kafka's defaults.
import { defaultStreamConfig, type StreamConfig } from '../../broker/config.js'
import { WharfError } from '../../util/errors.js'

/** DescribeConfigs configType values (KIP-569). */
const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, LONG: 5, LIST: 7 } as const

interface MappedConfig {
  name: string
  type: number
  read(config: StreamConfig): string
  /** Returns the StreamConfig changes for a value; throws INVALID_CONFIG on a bad value. */
  apply(value: string): Partial<StreamConfig>
}

function long(
  name: string,
  key: 'retentionMs' | 'retentionBytes' | 'maxMessageBytes' | 'segmentBytes',
  min: number,
): MappedConfig {
  return {
    name,
    type: ConfigType.LONG,
    read: (config) => String(config[key]),
    apply: (value) => {
      const n = Number(value.trim())
      if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
        throw new WharfError('INVALID_CONFIG', `Invalid value ${value} for configuration ${name}`)
      }
      return { [key]: n }
    },
  }
}

export const mappedConfigs: readonly MappedConfig[] = [
  {
    name: 'cleanup.policy',
    type: ConfigType.LIST,
    read: (config) => (config.compact ? 'compact' : 'delete'),
    apply: (value) => {
      const parts = value.split(',').map((s) => s.trim())
      if (parts.length === 0 || parts.some((p) => p !== 'compact' && p !== 'delete')) {
        throw new WharfError('INVALID_CONFIG', `Invalid value ${value} for configuration cleanup.policy`)
      }
      // "compact,delete" compacts and still applies time/size retention, which the broker does for compact.
      return { compact: parts.includes('compact') }
    },
  },
  long('max.message.bytes', 'maxMessageBytes', 1),
  long('retention.bytes', 'retentionBytes', -1),
  long('retention.ms', 'retentionMs', -1),
  long('segment.bytes', 'segmentBytes', 1024),
]

/** Kafka topic configs Wharf does not model: shown read-only with Kafka's defaults; setting them to these values is accepted. */
const fixedConfigs: ReadonlyArray<{ name: string; value: string; type: number }> = [
  { name: 'compression.type', value: 'producer', type: ConfigType.STRING },
  { name: 'delete.retention.ms', value: '86400000', type: ConfigType.LONG },
  { name: 'file.delete.delay.ms', value: '60000', type: ConfigType.LONG },
  { name: 'flush.messages', value: '9223372036854775807', type: ConfigType.LONG },
  { name: 'flush.ms', value: '9223372036854775807', type: ConfigType.LONG },
  { name: 'index.interval.bytes', value: '4096', type: ConfigType.INT },
  { name: 'message.timestamp.type', value: 'CreateTime', type: ConfigType.STRING },
  { name: 'min.cleanable.dirty.ratio', value: '0.5', type: 6 },
  { name: 'min.compaction.lag.ms', value: '0', type: ConfigType.LONG },
  { name: 'min.insync.replicas', value: '1', type: ConfigType.INT },
  { name: 'preallocate', value: 'false', type: ConfigType.BOOLEAN },
  { name: 'segment.ms', value: '604800000', type: ConfigType.LONG },
  { name: 'unclean.leader.election.enable', value: 'false', type: ConfigType.BOOLEAN },
]

/** Translates Kafka topic configs into StreamConfig changes; unknown names and bad values throw INVALID_CONFIG. */
export function toStreamConfig(configs: ReadonlyArray<{ name: string; value: string | null }>): Partial<StreamConfig> {
  const out: Partial<StreamConfig> = {}
  for (const { name, value } of configs) {
    const mapped = mappedConfigs.find((m) => m.name === name)
    if (mapped !== undefined) {
      if (value !== null) Object.assign(out, mapped.apply(value))
      continue
    }
    const fixed = fixedConfigs.find((f) => f.name === name)
    // Replication-related settings have one possible meaning on a single node; accept the harmless ones.
    if (
      fixed !== undefined &&
      (value === null || value === fixed.value || name === 'min.insync.replicas' || name === 'compression.type')
    )
      continue
    throw new WharfError(
      'INVALID_CONFIG',
      fixed === undefined ? `Unknown topic config name: ${name}` : `Config ${name} is fixed at ${fixed.value} in Wharf`,
    )
  }
  return out
}

export interface DescribedConfig {
  name: string
  value: string
  readOnly: boolean
  isDefault: boolean
  type: number
}

export function describeTopicConfigs(config: StreamConfig): DescribedConfig[] {
  const defaults = defaultStreamConfig
  const mapped = mappedConfigs.map((m) => ({
    name: m.name,
    value: m.read(config),
    readOnly: false,
    isDefault: m.read(config) === m.read(defaults),
    type: m.type,
  }))
  const fixed = fixedConfigs.map((f) => ({
    name: f.name,
    value: f.value,
    readOnly: true,
    isDefault: true,
    type: f.type,
  }))
  return [...mapped, ...fixed].sort((a, b) => (a.name < b.name ? -1 : 1))
}

/** Kafka defaults for the mapped keys: AlterConfigs (non-incremental) resets what it does not name. */
export function defaultMappedConfig(): Partial<StreamConfig> {
  const d = defaultStreamConfig
  return {
    compact: d.compact,
    maxMessageBytes: d.maxMessageBytes,
    retentionBytes: d.retentionBytes,
    retentionMs: d.retentionMs,
    segmentBytes: d.segmentBytes,
  }
}

/** IncrementalAlterConfigs operations (KIP-339). */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const

/**
 * One IncrementalAlterConfigs entry as StreamConfig changes against `current`: SET as AlterConfigs sets it,
 * DELETE back to the default, APPEND/SUBTRACT add or remove items of a list config (Kafka allows them on lists
 * only). Throws INVALID_CONFIG for unknown names, bad values and list operations on other configs.
 */
export function incrementalChange(
  current: StreamConfig,
  entry: { name: string; configOperation: number; value: string | null },
): Partial<StreamConfig> {
  const { name, configOperation: op, value } = entry
  const mapped = mappedConfigs.find((m) => m.name === name)
  if (op === ConfigOperation.SET) return toStreamConfig([{ name, value }])
  if (op === ConfigOperation.DELETE) {
    if (mapped === undefined) return toStreamConfig([{ name, value: null }])
    return mapped.apply(mapped.read(defaultStreamConfig))
  }
  if (op !== ConfigOperation.APPEND && op !== ConfigOperation.SUBTRACT)
    throw new WharfError('INVALID_ARGUMENT', `Unknown config operation ${op} for ${name}`)
  if (mapped === undefined || mapped.type !== ConfigType.LIST) {
    toStreamConfig([{ name, value: null }]) // throws the unknown-name error for a name Kafka does not have
    throw new WharfError('INVALID_CONFIG', `Config value append/subtract is not allowed for config key ${name}`)
  }
  const items = (text: string | null) =>
    (text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  const have = items(mapped.read(current))
  const given = items(value)
  const next =
    op === ConfigOperation.APPEND
      ? [...have, ...given.filter((v) => !have.includes(v))]
      : have.filter((v) => !given.includes(v))
  if (next.length === 0) throw new WharfError('INVALID_CONFIG', `Config ${name} cannot be an empty list in Wharf`)
  return mapped.apply(next.join(','))
}
