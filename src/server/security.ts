// The security settings of a server (its users and rules are applied when the broker opens): the anonymous
// policy and its safe default, refusing to serve a network with nobody able to log in, and the TLS credentials.
import type { Security } from '../broker/security/security.js'
import { TlsCredentials } from '../protocols/common/tls.js'
import { WharfError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { isLoopbackHost } from '../util/net.js'
import type { WharfConfig } from './config.js'

/**
 * Anonymous access is on by default only where nobody else can connect (a loopback bind) and no user is
 * configured. Off loopback, a server that nobody could log in to refuses to start and says what to set.
 */
export function configureSecurity(security: Security, config: WharfConfig, logger: Logger): void {
  const loopback = isLoopbackHost(config.host)
  const usable = security.users.list().filter((user) => !user.loopbackOnly)
  const anonymous = config.anonymous === 'auto' ? loopback && config.users.length === 0 : config.anonymous
  security.configure({ anonymous, defaultPermission: config.defaultPermission })
  if (!loopback && !anonymous && usable.length === 0)
    throw new WharfError(
      'INVALID_CONFIG',
      `listening on ${config.host} with no user who can log in from the network: add one under "users" in the ` +
        'config file (e.g. {"name": "admin", "password": "...", "tags": ["administrator"]}), or set ' +
        '"anonymous": true (--anonymous true, WHARF_ANONYMOUS=true) to let anyone in',
    )
  if (!loopback && anonymous)
    logger.warn(
      { host: config.host },
      'anonymous access is on for a network address: anyone who reaches it may do anything ACLs allow',
    )
  if (loopback && anonymous) logger.info('anonymous access is on (loopback only, no users configured)')
}

/** The TLS credentials when a certificate and key are configured. */
export function tlsCredentials(config: WharfConfig): TlsCredentials | undefined {
  if (config.tlsCertFile === '') return undefined
  return new TlsCredentials({
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
    caFile: config.tlsCaFile || undefined,
    clientAuth: config.tlsClientAuth,
  })
}
