// The broker-to-broker link of a cluster (brokers sharing one PostgreSQL with --node-id): a listener other
// members reach at the `cluster` endpoint this broker advertises, links to them, and the two things carried
// over them. Appends to a log another member owns go to that owner (the storage's AppendForwarder), so a
// publish from any protocol lands wherever a client connected. A durable queue is served by the owner of
// its stream's first partition log; on every other member the queue's operations go there (placement.ts).

import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { Broker } from '../../broker/broker.js'
import { followMoves } from '../../broker/moving.js'
import type { Listener } from '../../protocols/common/listener.js'
import type { TlsCredentials } from '../../protocols/common/tls.js'
import type { AppendResult, ClusterView, LogOwnership } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import { listenTcp } from '../../util/net.js'
import { LINK_ENDPOINT, type LinkOptions, Peer } from './peer.js'
import { QueuePlacement } from './placement.js'
import { PublishRelay } from './relay.js'
import { serveLink } from './serve.js'

export { LINK_ENDPOINT }

/** The largest frame a link accepts from an authenticated peer: a queue's largest message, with room. */
export const LINK_FRAME_BYTES_MAX = 64 * 1024 * 1024
/** How often a broker checks whether its transient bindings changed (and tells the others). */
const ANNOUNCE_MS = 500
/** How long a catalog change waits for a member to catch up with it before it is confirmed regardless. */
const CATCH_UP_TIMEOUT_MS = 5000

export interface ClusterLinkOptions {
  broker: Broker
  cluster: ClusterView
  host: string
  /** Set when the listeners speak TLS: the link does too, and verifies peers against tlsCaFile or the certificate. */
  credentials: TlsCredentials | undefined
  logger: Logger
}

export async function startClusterLink(options: ClusterLinkOptions): Promise<Listener> {
  const { broker, cluster, credentials, logger } = options
  // linkSecret() keeps the secret once read (and reads again after a failure).
  const getSecret = () => cluster.linkSecret()
  await getSecret()
  const linkOptions: LinkOptions = {
    cluster,
    secret: getSecret,
    tls: credentials === undefined ? undefined : clientTls(credentials),
    frameBytesMax: LINK_FRAME_BYTES_MAX,
    requestTimeoutMs: 30_000,
    logger,
  }
  const peers = new Map<number, Peer>()
  const peer = (node: number) => {
    let found = peers.get(node)
    if (found === undefined) {
      found = new Peer(node, linkOptions)
      peers.set(node, found)
    }
    return found
  }

  const sockets = new Set<Socket>()
  const accept = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    serveLink(socket, {
      broker,
      cluster,
      secret: getSecret,
      frameBytesMax: LINK_FRAME_BYTES_MAX,
      logger,
      placeNow: () => placement.sweep(),
      heard: (node, exchanges) => relay.heard(node, exchanges),
    })
  }
  const server =
    credentials === undefined
      ? await listenTcp(options.host, 0, accept)
      : await listenTcp(options.host, 0, accept, (onConnection) =>
          credentials.createServer(onConnection, (error) =>
            logger.debug({ err: error.message }, 'cluster link TLS failed'),
          ),
        )

  cluster.forwardAppends((logName, owner, batches, retry) => {
    let target = owner
    return followMoves(async () => {
      // Where the view says the log is now (after a move: here, append locally; nobody yet: the last owner).
      const now = cluster.ownerOf(logName)
      if (now?.owner === cluster.nodeId) return retry()
      if (now !== undefined) target = now
      const answer = peer(target.owner).request('append', { log: logName, epoch: target.epoch, batches })
      return (await untilMoved(cluster, logName, target, answer)) as AppendResult
    })
  })
  const placement = new QueuePlacement(broker, cluster, peer, logger)
  broker.clusterLink.lookup = (name, config, streamId) => placement.lookup(name, config, streamId)
  placement.start()
  const relay = new PublishRelay(broker, cluster, peer)
  broker.clusterLink.relay = (exchange, key, message, publishOptions) =>
    relay.relay(exchange, key, message, publishOptions)
  broker.clusterLink.request = (node, op, body) => peer(node).request(op, body)
  broker.clusterLink.claim = (kind, id) => {
    for (const member of cluster.members())
      if (member.id !== cluster.nodeId) peer(member.id).tell('claim', { kind, id })
  }
  // A catalog change a client is about to be told of (declare-ok, bind-ok, SUBACK) must be in force on every
  // member, or a publish through another one right after it misses it: the catalog's own announcements can be
  // milliseconds behind, and transient subscriptions are announced only every ANNOUNCE_MS. So each other live
  // member is asked to catch up with the catalog committed so far, told this broker's interest in the same
  // request, and waited for; one that does not answer in time is paused or gone, and catches up when it is back.
  broker.clusterLink.settler = async () => {
    const others = cluster.members().filter((m) => m.id !== cluster.nodeId)
    if (others.length === 0) return
    const exchanges = relay.interestNow()
    let timer: NodeJS.Timeout | undefined
    // The request's own timeout starts once the link is up; connecting to a paused member takes longer.
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CATCH_UP_TIMEOUT_MS)
    })
    const caughtUp = (node: number) => peer(node).request('catch-up', { exchanges }, CATCH_UP_TIMEOUT_MS)
    await Promise.race([late, Promise.all(others.map((m) => caughtUp(m.id).catch(() => {})))])
    clearTimeout(timer)
  }
  const announcing = setInterval(() => relay.announce(), ANNOUNCE_MS)
  announcing.unref()
  relay.announce()

  return {
    name: LINK_ENDPOINT,
    port: server.port,
    urls: [],
    async close() {
      placement.stop()
      clearInterval(announcing)
      broker.clusterLink.lookup = null
      broker.clusterLink.relay = null
      broker.clusterLink.claim = null
      broker.clusterLink.settler = null
      broker.clusterLink.request = null
      cluster.forwardAppends(null)
      for (const p of peers.values()) p.close()
      for (const socket of sockets) socket.destroy()
      await server.close()
    },
  }
}

/**
 * How this broker connects to peers over TLS. A peer's certificate must chain to tlsCaFile (or a public CA) and
 * name the peer's host, or be this broker's own certificate (`pinned`): brokers of one cluster usually share
 * one, and one signed by a CA that is not configured would otherwise fail every link.
 */
function clientTls(credentials: TlsCredentials): LinkOptions['tls'] {
  const { certFile, keyFile, caFile } = credentials.settings
  return {
    connect: {
      ...(caFile ? { ca: readFileSync(caFile) } : {}),
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: false,
    },
    pinned: new X509Certificate(readFileSync(certFile)).fingerprint256,
  }
}

/**
 * The owner's answer, or NOT_OWNER as soon as this broker sees another owner or epoch for the log: a paused
 * owner (SIGSTOP, a long GC) answers nothing until the request times out, while the members that gave its
 * logs away already serve them. Its append, if it ever runs, is fenced by the epoch; one it committed before
 * pausing is stored twice by the retry, which only an unanswered append can be.
 */
function untilMoved(
  cluster: ClusterView,
  logName: string,
  target: LogOwnership,
  answer: Promise<unknown>,
): Promise<unknown> {
  answer.catch(() => {}) // abandoned when the log moves
  let off: (() => void) | undefined
  const moved = new Promise<never>((_, reject) => {
    off = cluster.onChange(() => {
      const now = cluster.ownerOf(logName)
      if (now === undefined || (now.owner === target.owner && now.epoch === target.epoch)) return
      reject(new WharfError('NOT_OWNER', `log ${logName} moved to broker ${now.owner} while its append was waiting`))
    })
  })
  return Promise.race([answer, moved]).finally(() => off?.())
}
