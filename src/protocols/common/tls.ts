// TLS for every listener: PEM files loaded once into server options, TLS 1.2 or later only, optional
// client-certificate verification, and a reload (SIGHUP) that swaps the certificate of every TLS server
// without dropping a connection. A TLS socket is a net.Socket, so adapters serve it unchanged.
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import tls from 'node:tls'
import { WharfError } from '../../util/errors.js'

export const clientAuthModes = ['none', 'request', 'require'] as const
export type ClientAuth = (typeof clientAuthModes)[number]

export interface TlsSettings {
  certFile: string
  keyFile: string
  /** CA bundle that client certificates must chain to; needed for client-certificate verification. */
  caFile?: string | undefined
  clientAuth: ClientAuth
}

/** A TLS handshake that has not finished by then is dropped (a socket held open by a silent client). */
const HANDSHAKE_TIMEOUT_MS = 10_000

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    throw new WharfError('INVALID_CONFIG', `TLS ${what} ${file}: ${(error as Error).message}`)
  }
}

function load(settings: TlsSettings): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = {
    cert: read(settings.certFile, 'certificate file'),
    key: read(settings.keyFile, 'key file'),
    minVersion: 'TLSv1.2',
  }
  if (settings.caFile) options.ca = read(settings.caFile, 'CA file')
  try {
    // Fails here, with the file named, rather than at the first client's handshake.
    tls.createSecureContext(options)
  } catch (error) {
    throw new WharfError(
      'INVALID_CONFIG',
      `TLS certificate/key (${settings.certFile}, ${settings.keyFile}): ${(error as Error).message}`,
    )
  }
  return options
}

/** The server side of TLS for all listeners: one certificate, reloaded for all of them at once. */
export class TlsCredentials {
  readonly settings: TlsSettings
  #options: tls.SecureContextOptions
  readonly #servers = new Set<tls.Server>()

  constructor(settings: TlsSettings) {
    if (settings.clientAuth !== 'none' && !settings.caFile)
      throw new WharfError(
        'INVALID_CONFIG',
        `tlsClientAuth ${settings.clientAuth} needs tlsCaFile (the CA client certificates chain to)`,
      )
    this.settings = settings
    this.#options = load(settings)
  }

  /** Re-reads the files; on an error the old certificate stays in use and the error is thrown. */
  reload(): void {
    this.#options = load(this.settings)
    for (const server of this.#servers) server.setSecureContext(this.#options)
  }

  /**
   * An HTTPS server with the same settings as createServer (its certificate follows reload(), since
   * https.Server is a tls.Server); `onRequest` is the request handler (the HTTP listener's fastify app).
   */
  createHttpsServer(
    onRequest: (request: IncomingMessage, response: ServerResponse) => void,
    onError?: (error: Error) => void,
    httpOptions: https.ServerOptions = {},
  ): https.Server {
    const server = https.createServer({ ...httpOptions, ...this.#serverOptions() }, onRequest)
    this.#track(server, onError)
    return server
  }

  /** The options of every TLS server: the loaded certificate, client-certificate mode, handshake bound. */
  #serverOptions(): tls.TlsOptions {
    const clientAuth = this.settings.clientAuth
    return {
      ...this.#options,
      requestCert: clientAuth !== 'none',
      rejectUnauthorized: clientAuth === 'require',
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      noDelay: true,
    }
  }

  #track(server: tls.Server, onError: ((error: Error) => void) | undefined): void {
    // A failed handshake (wrong version, no or bad client certificate, plaintext on a TLS port) ends that
    // socket only.
    server.on('tlsClientError', (error, socket) => {
      onError?.(error)
      socket.destroy()
    })
    this.#servers.add(server)
    server.once('close', () => this.#servers.delete(server))
  }

  /** A TLS server whose certificate follows reload(); `onConnection` gets sockets after the handshake. */
  createServer(onConnection: (socket: net.Socket) => void, onError?: (error: Error) => void): tls.Server {
    const server = tls.createServer(this.#serverOptions(), onConnection)
    this.#track(server, onError)
    return server
  }
}

/** The subject of a client certificate that verified against the CA, else undefined. */
export function peerCertificateSubject(
  socket: net.Socket,
): { commonName: string; distinguishedName: string } | undefined {
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return undefined
  const certificate = socket.getPeerCertificate()
  const subject = certificate?.subject as Record<string, string | string[]> | undefined
  if (!subject) return undefined
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)
  const commonName = first(subject.CN)
  if (!commonName) return undefined
  // RFC 2253 order (most specific first), as Kafka's default SSL principal prints it.
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C']
  const distinguishedName = order
    .flatMap((key) => {
      const v = subject[key]
      return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((value) => `${key}=${value}`)
    })
    .join(',')
  return { commonName, distinguishedName }
}

export function isTls(socket: net.Socket): boolean {
  return socket instanceof tls.TLSSocket
}
