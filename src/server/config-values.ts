// The values a setting may take, by kind (port, bytes, host, enumerations...), how strings from flags and the
// environment become them, and how errors name a setting the way the user wrote it.
import { isIP } from 'node:net'
import { clientAuthModes } from '../protocols/common/tls.js'
import { WharfError } from '../util/errors.js'
import { logFormats, logLevels } from '../util/logger.js'

export type Kind = 'string' | 'host' | 'optionalString' | 'boolean' | 'autoBoolean' | 'list' | EnumKind | NumberKind
type EnumKind = 'durability' | 'permission' | 'clientAuth' | 'logLevel' | 'logFormat' | 'deadLetterStrategy'
const enums: Record<EnumKind, readonly string[]> = {
  logLevel: logLevels,
  logFormat: logFormats,
  durability: ['always', 'interval', 'never'],
  permission: ['allow', 'deny'],
  clientAuth: clientAuthModes,
  deadLetterStrategy: ['shared', 'individual', 'none'],
}
/** dataDir -> WHARF_DATA_DIR */
export function envName(key: string): string {
  return `WHARF_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`
}

/** dataDir -> data-dir (the flag is --data-dir) */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

type NumberKind = 'port' | 'partitions' | 'bytes' | 'count' | 'countOrZero' | 'milliseconds' | 'nodeId'

/** The numbers each numeric kind accepts (from a number, or a string as in the environment) and how errors name them. */
const numberKinds: Record<NumberKind, { accepts: (n: number) => boolean; what: string }> = {
  port: { accepts: (n) => Number.isInteger(n) && n >= 0 && n <= 65535, what: 'a port number 0-65535 (0 disables)' },
  partitions: { accepts: (n) => Number.isInteger(n) && n >= 1 && n <= 4096, what: 'an integer 1-4096' },
  bytes: { accepts: (n) => Number.isSafeInteger(n) && n >= 0, what: 'a whole number of bytes (0 disables)' },
  count: { accepts: (n) => Number.isSafeInteger(n) && n >= 1, what: 'a positive integer' },
  countOrZero: { accepts: (n) => Number.isSafeInteger(n) && n >= 0, what: 'a whole number (0 = no limit)' },
  milliseconds: { accepts: (n) => Number.isSafeInteger(n) && n >= 0, what: 'a whole number of milliseconds (0 = off)' },
  // Kafka names brokers by a non-negative int32.
  nodeId: { accepts: (n) => Number.isInteger(n) && n >= 0 && n <= 0x7fffffff, what: 'an integer 0-2147483647' },
}

/** How an error names a setting: as the user wrote it (--flag, WHARF_VARIABLE, or the file's key), never guessed. */
function settingName(key: string, source: string): string {
  if (source === 'flags') return `--${flagName(key)}`
  if (source === 'environment') return envName(key)
  return `${source}: ${key}`
}

/** A setting by every name it has, for errors about a combination of settings. */
export function settingNames(key: string): string {
  return `--${flagName(key)} (${envName(key)}, "${key}" in a config file)`
}

/** Host names (RFC 1123 labels) and IP literals; whether this machine has the address is checked at listen. */
function isHostSyntax(host: string): boolean {
  if (isIP(host) !== 0) return true
  return (
    host.length <= 253 &&
    /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(host)
  )
}

/** A setting's value from a flag, a variable (strings) or the config file (JSON), checked against its kind. */
export function coerce(kind: Kind, key: string, value: unknown, source: string): unknown {
  const name = settingName(key, source)
  const invalid = (what: string) =>
    new WharfError('INVALID_CONFIG', `${name} must be ${what}, got ${JSON.stringify(value)}`)
  if (kind === 'autoBoolean' && value === 'auto') return value
  if (kind === 'list') {
    let list = value
    if (typeof value === 'string') {
      try {
        list = JSON.parse(value)
      } catch {
        throw new WharfError('INVALID_CONFIG', `${name} must be a JSON array`)
      }
    }
    if (
      !Array.isArray(list) ||
      !list.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))
    )
      throw new WharfError('INVALID_CONFIG', `${name} must be an array of objects`)
    return list
  }
  if (kind === 'boolean' || kind === 'autoBoolean') {
    if (typeof value === 'boolean') return value
    if (value === 'true' || value === '1') return true
    if (value === 'false' || value === '0') return false
    throw invalid(`true or false${kind === 'autoBoolean' ? ' or auto' : ''}`)
  }
  if (kind === 'optionalString') {
    if (typeof value !== 'string') throw invalid('a string')
    return value
  }
  if (Object.hasOwn(numberKinds, kind)) {
    const { accepts, what } = numberKinds[kind as NumberKind]
    const n = typeof value === 'number' ? value : Number(String(value).trim())
    if (!accepts(n)) throw invalid(what)
    return n
  }
  if (Object.hasOwn(enums, kind) && (typeof value !== 'string' || !enums[kind as EnumKind].includes(value)))
    throw invalid(`one of ${enums[kind as EnumKind].join(', ')}`)
  if (typeof value !== 'string' || value === '') throw invalid('a non-empty string')
  if (kind === 'host' && !isHostSyntax(value))
    throw invalid('an IP address of this machine (127.0.0.1, ::1, 0.0.0.0 for all IPv4, :: for all) or a host name')
  return value
}

/** Settings that are valid alone but not together: each refusal names the settings to change. */
export function checkCombinations(config: { sqsBaseUrl: string; tlsCertFile: string; tlsKeyFile: string }): void {
  if (config.sqsBaseUrl !== '' && !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(config.sqsBaseUrl))
    throw new WharfError(
      'INVALID_CONFIG',
      `${settingNames('sqsBaseUrl')} must be an http(s) URL without query, got ${config.sqsBaseUrl}`,
    )
  if ((config.tlsCertFile === '') !== (config.tlsKeyFile === ''))
    throw new WharfError(
      'INVALID_CONFIG',
      'TLS needs both a certificate and a key: --tls-cert-file and --tls-key-file (WHARF_TLS_CERT_FILE, WHARF_TLS_KEY_FILE, "tls": {"certFile", "keyFile"} in a config file)',
    )
}
