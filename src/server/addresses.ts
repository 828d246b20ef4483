// Where the server listens, checked before anything else starts, and the URLs the start banner prints: a
// wildcard bind (0.0.0.0, ::) is reachable at this machine's own addresses, not at "0.0.0.0".
import { lookup } from 'node:dns/promises'
import { networkInterfaces } from 'node:os'
import { WharfError } from '../util/errors.js'
import { envName, flagName, type WharfConfig } from './config.js'

type Interfaces = ReturnType<typeof networkInterfaces>

const WILDCARD_V4 = '0.0.0.0'
const WILDCARD_V6 = '::'

export function isWildcardHost(host: string): boolean {
  return host === WILDCARD_V4 || host === WILDCARD_V6
}

/** This machine's interface addresses, non-loopback first. */
function localAddresses(interfaces: Interfaces): string[] {
  const all = Object.values(interfaces).flatMap((list) => list ?? [])
  return [...all.filter((a) => !a.internal), ...all.filter((a) => a.internal)].map((a) => a.address)
}

/**
 * The listen host must be a wildcard or resolve to an address of this machine; otherwise the error lists
 * the addresses that would work and names the flag and variable that set it.
 */
export async function checkListenHost(host: string, interfaces: Interfaces = networkInterfaces()): Promise<void> {
  if (isWildcardHost(host)) return
  const mine = new Set(localAddresses(interfaces))
  let problem: string
  try {
    const resolved = await lookup(host, { all: true })
    if (resolved.some((a) => mine.has(a.address) || a.address.startsWith('127.'))) return
    problem = `resolves to ${resolved.map((a) => a.address).join(', ')}, not an address of this machine`
  } catch (error) {
    problem = `does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`
  }
  const valid = [...new Set([WILDCARD_V4, WILDCARD_V6, 'localhost', ...mine])].join(', ')
  throw new WharfError(
    'INVALID_CONFIG',
    `--host ${host} (${envName('host')}) ${problem}; listen on one of: ${valid} (0.0.0.0: all IPv4 addresses, ::: all)`,
  )
}

/**
 * A listener's listen failure in the operator's words: which listener, which port, and the flag and variable
 * that move it. Other errors pass through.
 */
export function listenFailure(
  error: unknown,
  listener: string,
  config: WharfConfig,
  portKey: keyof WharfConfig,
  tlsPortKey: keyof WharfConfig,
): unknown {
  const { code, port } = (error ?? {}) as { code?: string; port?: number }
  const key = port !== undefined && port === config[tlsPortKey] && port !== config[portKey] ? tlsPortKey : portKey
  const move = `--${flagName(key)} N (${envName(key)}=N), or 0 to turn it off`
  const where = `${listener} listener: port ${port ?? config[key]} on ${config.host}`
  if (code === 'EADDRINUSE')
    return new WharfError(
      'INVALID_CONFIG',
      `${where} is already in use (another Wharf or another program?); choose another with ${move}`,
    )
  if (code === 'EACCES')
    return new WharfError(
      'INVALID_CONFIG',
      `${where} needs privileges this process does not have; choose a port above 1023 with ${move}`,
    )
  if (code === 'EADDRNOTAVAIL')
    return new WharfError(
      'INVALID_CONFIG',
      `${where}: the address is not on this machine; set --host (${envName('host')})`,
    )
  return error
}

/** The listeners' URLs as a client would use them: for a wildcard bind, one per address of this machine. */
export function usableUrls(urls: string[], host: string, interfaces: Interfaces = networkInterfaces()): string[] {
  if (!isWildcardHost(host)) return urls
  const addresses = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && (host === WILDCARD_V6 || a.family === 'IPv4'))
    .map((a) => (a.family === 'IPv6' ? `[${a.address}]` : a.address))
  if (addresses.length === 0) addresses.push(host === WILDCARD_V6 ? '[::1]' : '127.0.0.1')
  // Listeners write a wildcard host bare (`//0.0.0.0:`, `//:::`) or bracketed (`//[::]:`).
  const shown = host === WILDCARD_V6 ? /\/\/(\[::\]|::):/ : /\/\/0\.0\.0\.0:/
  return urls.flatMap((url) => (shown.test(url) ? addresses.map((a) => url.replace(shown, `//${a}:`)) : [url]))
}
