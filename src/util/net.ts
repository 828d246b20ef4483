// TCP listening shared by the protocol listeners. A loopback host listens on both 127.0.0.1 and ::1, because
// clients resolving "localhost" may pick either (librdkafka, amqplib's own tests use [::1]).
import net from 'node:net'

export interface TcpListener {
  readonly port: number
  readonly servers: net.Server[]
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/** A listen host that only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.')
}

/** A socket address with an IPv4-mapped IPv6 prefix removed (`::ffff:10.0.0.1` -> `10.0.0.1`). */
export function unmappedAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address
}

/** A peer address (as a socket reports it, IPv4-mapped or not) on this machine. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  const a = unmappedAddress(address)
  return a === '::1' || a.startsWith('127.')
}

function listenOne(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject)
      resolve((server.address() as net.AddressInfo).port)
    })
  })
}

/** Listens with `onConnection`; port 0 picks a free port (the same one on both loopback families). */
export async function listenTcp(
  host: string,
  port: number,
  onConnection: (socket: net.Socket) => void,
  createServer: (onConnection: (socket: net.Socket) => void) => net.Server = (listener) =>
    net.createServer({ noDelay: true }, listener),
): Promise<TcpListener> {
  const primary = createServer(onConnection)
  const actual = await listenOne(primary, LOOPBACK.has(host) ? '127.0.0.1' : host, port)
  const servers = [primary]
  if (LOOPBACK.has(host)) {
    const v6 = createServer(onConnection)
    try {
      await listenOne(v6, '::1', actual)
      servers.push(v6)
    } catch {
      // No IPv6 loopback on this machine (or the port is taken there): IPv4 alone still serves.
      v6.close()
    }
  }
  return {
    port: actual,
    servers,
    close: () =>
      Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => {}),
  }
}
