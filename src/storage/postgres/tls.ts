// TLS to PostgreSQL from the storage URL's libpq parameters: sslmode, sslrootcert, sslcert, sslkey, turned
// into node-postgres' `ssl` option. sslmode as libpq means it:
//   disable      plaintext only
//   prefer       TLS if the server offers it, else plaintext; the certificate is not checked (the default)
//   require      TLS; the certificate is not checked, unless sslrootcert is given (then as verify-ca)
//   verify-ca    TLS; the server's chain must lead to sslrootcert (or the system CAs without it)
//   verify-full  as verify-ca, and the certificate must name the host the URL gives
// sslcert and sslkey: a client certificate, for servers that ask for one (pg_hba `cert` or clientcert=...).
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { WharfError } from '../../util/errors.js'

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

const MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full']

export interface SslSettings {
  mode: SslMode
  /** node-postgres' `ssl` option; false for plaintext. */
  ssl: false | ConnectionOptions
}

function readPem(params: Map<string, string>, name: string): Buffer | undefined {
  const path = params.get(name)
  if (path === undefined || path === '') return undefined
  try {
    return readFileSync(path)
  } catch (error) {
    throw new WharfError('INVALID_CONFIG', `storage URL: cannot read ${name} ${path}: ${(error as Error).message}`)
  }
}

/** The TLS settings the URL's parameters ask for (files read once, at open). */
export function sslSettings(params: Map<string, string>): SslSettings {
  const given = params.get('sslmode') ?? 'prefer'
  if (!MODES.includes(given as SslMode))
    throw new WharfError('INVALID_CONFIG', `storage URL: sslmode must be one of ${MODES.join(', ')}, got '${given}'`)
  let mode = given as SslMode
  if (mode === 'disable') return { mode, ssl: false }
  // sslrootcert=system (libpq 16): the system's CAs, which is what node uses without `ca`.
  const rootcert = params.get('sslrootcert')
  const ca = rootcert === 'system' ? undefined : readPem(params, 'sslrootcert')
  if (mode === 'require' && rootcert !== undefined && rootcert !== '') mode = 'verify-ca'
  const ssl: ConnectionOptions = {
    ...(ca !== undefined ? { ca } : {}),
    ...(params.has('sslcert') ? { cert: readPem(params, 'sslcert') } : {}),
    ...(params.has('sslkey') ? { key: readPem(params, 'sslkey') } : {}),
  }
  if (mode === 'prefer' || mode === 'require') return { mode, ssl: { ...ssl, rejectUnauthorized: false } }
  if (mode === 'verify-ca')
    return { mode, ssl: { ...ssl, rejectUnauthorized: true, checkServerIdentity: () => undefined } }
  return { mode, ssl: { ...ssl, rejectUnauthorized: true } }
}

/** node-postgres' error when the server answers the SSLRequest with 'N' (ssl=off). */
export function serverRefusedTls(error: unknown): boolean {
  return /does not support SSL/i.test((error as Error).message ?? '')
}

/** A failed TLS handshake or certificate check, explained with the settings that caused it; else undefined. */
export function tlsFailure(error: unknown, settings: SslSettings, params: Map<string, string>): string | undefined {
  const code = (error as { code?: unknown }).code
  const message = (error as Error).message ?? String(error)
  const certificate =
    typeof code === 'string' &&
    (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL/.test(code) || /certificate/i.test(message))
  if (!certificate) return undefined
  const root = params.get('sslrootcert')
  return `TLS (sslmode=${settings.mode}${root ? `, sslrootcert=${root}` : ''}) failed: ${message}`
}
