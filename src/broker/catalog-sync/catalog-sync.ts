// Several brokers over one storage (PostgreSQL) share one catalog: a stream, queue, exchange, binding, user or
// rule created on one broker must exist on the others. The storage applies another broker's committed change to
// its own catalog (MetadataStore.watch) and names the document; this applies it to the live broker, through the
// code that loads the same documents at start, in memory only (the other broker wrote everything durable):
// streams and queues are opened, altered or closed, the router takes or drops the exchange or binding, security
// drops its cached decisions, the schema registry reads its documents again, the scheduler takes the job's new schedule. Each change runs in turn with the broker's own catalog changes (its catalog lock)
// and acts on the catalog as it is then, so a burst of changes to one name ends in its last state.
import type { MetadataStore } from '../../storage/api.js'
import type { CatalogLock } from '../catalog-lock.js'
import type { ClusterLinkHooks } from '../cluster-link.js'
import type { QueueCatalog, QueueRecord } from '../queue/catalog.js'
import type { Quotas } from '../quotas/quotas.js'
import type { Router } from '../routing/router.js'
import type { Scheduler } from '../schedule/scheduler.js'
import type { SchemaStore } from '../schema/index.js'
import type { Security } from '../security/security.js'
import type { Appender } from '../stream/appender.js'
import type { StreamCatalog } from '../stream/catalog.js'
import type { TopicSubscriptions } from '../topics/topics.js'

export interface CatalogSyncHost {
  readonly router: Router
  readonly security: Security
  readonly quotas: Quotas
  readonly topics: TopicSubscriptions
  readonly schemas: Pick<SchemaStore, 'reload'>
  readonly scheduler: Pick<Scheduler, 'synced'>
  readonly clusterLink: Pick<ClusterLinkHooks, 'queueOpened'>
}

type Report = (message: string, details?: Record<string, unknown>) => void

/** Which catalog kinds a change of is applied to the live broker (the rest are read from the catalog on use). */
export const SYNCED_KINDS = [
  'stream',
  'queue',
  'exchange',
  'binding',
  'user',
  'acl',
  'client-quota',
  'sns-topic',
  'sns-subscription',
  'schema',
  'schema-subject',
  'schema-config',
  'schema-global',
  'schedule-job',
] as const

/**
 * Starts applying other brokers' catalog changes to this broker, when the storage is shared (its metadata
 * store can watch); a no-op on the local engine. Stops when the storage closes.
 */
export function syncCatalog(
  broker: CatalogSyncHost,
  metadata: MetadataStore,
  streams: StreamCatalog,
  queues: QueueCatalog,
  appender: Appender,
  lock: Pick<CatalogLock, 'locked'>,
  report: { info: Report; warn: Report },
): void {
  if (metadata.watch === undefined) return
  const apply = async (kind: string, name: string): Promise<void> => {
    switch (kind) {
      case 'stream': {
        const { opened, altered, gone } = await streams.syncFromCatalog(name)
        if (gone !== undefined) {
          // Consumers get what a local delete gives them: queues closed (cancelled), the stream unknown.
          for (const queue of [...gone.queues]) queues.detach(queue, 'stream deleted')
          await appender.forget(gone)
          await streams.detach(gone)
          report.info('stream deleted by another broker', { stream: name })
          // Deleted and created again there: open the new one.
          if (metadata.get('stream', name) !== undefined) await apply('stream', name)
          return
        }
        if (opened !== undefined) {
          report.info('stream created by another broker', { stream: name })
          // Its queues' records may have arrived first.
          for (const [queue, record] of metadata.list<QueueRecord>('queue'))
            if (record.config.stream === name && !queues.has(queue)) await apply('queue', queue)
        }
        if (altered !== undefined) report.info('stream altered by another broker', { stream: name })
        return
      }
      case 'queue': {
        const done = queues.syncFromCatalog(name)
        if (done !== undefined)
          report.info(`queue ${done === 'closed' ? 'deleted' : done} by another broker`, { queue: name })
        if (done === 'opened') broker.clusterLink.queueOpened(name)
        return
      }
      case 'exchange':
      case 'binding':
        await broker.router.syncFromCatalog(kind, name)
        return
      case 'user':
        broker.security.users.changed()
        return
      case 'acl':
        broker.security.acls.reload()
        return
      case 'client-quota':
        broker.quotas.reload()
        return
      case 'sns-topic':
      case 'sns-subscription':
        await broker.topics.reload()
        return
      case 'schema':
      case 'schema-subject':
      case 'schema-config':
      case 'schema-global':
        await broker.schemas.reload()
        return
      case 'schedule-job':
        broker.scheduler.synced(name)
        return
    }
  }
  metadata.watch((kind, name) => {
    if (!(SYNCED_KINDS as readonly string[]).includes(kind)) return
    lock
      .locked(() => apply(kind, name))
      .catch((error) =>
        report.warn('applying a catalog change from another broker failed', { kind, name, error: String(error) }),
      )
  })
}
