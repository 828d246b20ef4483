// The host Metadata and FindCoordinator name: clients connect to it after bootstrap, so it must reach us.
import { networkInterfaces } from 'node:os'
import { WharfError } from '../../util/errors.js'

const WILDCARD = new Set(['0.0.0.0', '::', ''])

/**
 * The configured host if any; for "localhost" 127.0.0.1 (librdkafka may resolve localhost to ::1 first); for a
 * wildcard bind the first non-internal IPv4 address of this machine, else an error naming the setting.
 */
export function advertisedHostFor(
  listenHost: string,
  configured: string | null,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string {
  if (configured) return configured
  if (listenHost === 'localhost') return '127.0.0.1'
  if (!WILDCARD.has(listenHost)) return listenHost
  for (const addresses of Object.values(interfaces))
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address
  throw new WharfError(
    'INVALID_CONFIG',
    `kafka: listening on ${listenHost || 'all interfaces'} but no network interface has a non-internal IPv4 ` +
      'address to advertise to clients: set the host clients should connect to with --kafka-advertised-host ' +
      '(WHARF_KAFKA_ADVERTISED_HOST, "kafkaAdvertisedHost" in the config file)',
  )
}
