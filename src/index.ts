// Public embedded API: `import { createBroker } from 'wharf-broker'`. This file is the composition root of the
// embedded broker: the only broker-level module that picks a storage implementation.
import { Broker } from './broker/broker.js'
import type { SchemaLimits, SecurityBootstrap, StreamConfig } from './broker/config.js'
import type { JmsOptions } from './broker/jms/options.js'
import type { ProducerTransactionOptions } from './broker/producer-transactions/options.js'
import type { QuotaWindow } from './broker/quotas/types.js'
import type { ScheduleLimits } from './broker/schedule/limits.js'
import type { TransactionLimits } from './broker/transactions/limits.js'
import type { StorageEngine } from './storage/api.js'
import { openStorage } from './storage/local/index.js'
import { isPostgresUrl, openPostgresStorage, type PostgresStorageOptions } from './storage/postgres/index.js'
import { WharfError } from './util/errors.js'

export interface CreateBrokerOptions {
  /** Directory holding all data (created if missing). */
  dataDir: string
  /** `local` (default: files in dataDir) or a postgres:// URL (storage/postgres; libpq multi-host form too). */
  storage?: string
  /** This broker's id in a cluster sharing a postgres:// storage (distinct per broker); unset: a single broker. */
  nodeId?: number
  /** With nodeId: how long this broker's membership lease lasts without renewal, ms (default 10 000). */
  clusterLeaseMs?: number
  /** With nodeId: how often the lease is renewed and the cluster view re-read, ms (default 2 000; at most half the lease). */
  clusterHeartbeatMs?: number
  /** Durability of new streams: always (fsync before acknowledging, default), interval or never. */
  durability?: StreamConfig['durability']
  /** Upper bound of open file descriptors. */
  maxOpenFiles?: number
  /** Emergency space held in the data directory for deletes and purges on a full disk (default 1 MiB; 0 = none). */
  reserveBytes?: number
  /** Kafka group.initial.rebalance.delay.ms: how long a new consumer group waits for more joiners (default 3000). */
  initialRebalanceDelayMs?: number
  warn?: (message: string, details?: Record<string, unknown>) => void
  /**
   * Told how long each fdatasync of a partition log took, in seconds (the server's fsync histogram); on
   * PostgreSQL, each append transaction up to its COMMIT.
   */
  onFsync?: (seconds: number) => void
  /** Events an operator wants in the log: topology changes, consumer-group rebalances, retention and compaction runs that removed data. */
  info?: (message: string, details?: Record<string, unknown>) => void
  /** Users and ACL rules to create or update at open; with none ever, a loopback-only guest/guest exists. */
  security?: SecurityBootstrap
  /** Most '#' wildcards in one AMQP topic binding key (default 10). */
  topicWildcardsMax?: number
  /** Bounds on schemas the registry accepts (defaults: 1 MiB, 128 levels). */
  schemaLimits?: Partial<SchemaLimits>
  /** JMS destinations: virtual topic prefixes, temporary destinations per connection (broker/jms/options.ts). */
  jms?: JmsOptions
  /** Bounds of the scheduler (defaults: 10000 jobs, 64 MiB of their messages, delays up to a year, local cron zone). */
  scheduleLimits?: Partial<ScheduleLimits>
  /** Bounds on transactions (defaults: 64 MiB and 100000 operations each, 1000 open per owner). */
  transactionLimits?: Partial<TransactionLimits>
  /** How client quota rates are measured (defaults: 11 samples of 1 s, Kafka's quota.window.*). */
  quotaWindow?: Partial<QuotaWindow>
  /** Producer transactions (Kafka transactional ids): timeout cap (15 min), partitions per transaction, ids kept. */
  producerTransactions?: ProducerTransactionOptions
}

export async function createBroker(options: CreateBrokerOptions): Promise<Broker> {
  const storage = await openEngine(options)
  try {
    return await Broker.open({
      storage,
      defaultDurability: options.durability,
      warn: options.warn,
      info: options.info,
      initialRebalanceDelayMs: options.initialRebalanceDelayMs,
      security: options.security,
      topicWildcardsMax: options.topicWildcardsMax,
      schemaLimits: options.schemaLimits,
      jms: options.jms,
      scheduleLimits: options.scheduleLimits,
      transactionLimits: options.transactionLimits,
      quotaWindow: options.quotaWindow,
      producerTransactions: options.producerTransactions,
    })
  } catch (error) {
    // The error that stopped the open is the one to report, not a failed close after it.
    await storage.close().catch(() => {})
    throw error
  }
}

async function openEngine(options: CreateBrokerOptions): Promise<StorageEngine> {
  const kind = options.storage ?? 'local'
  const nodeId = options.nodeId
  if (nodeId !== undefined && !isPostgresUrl(kind))
    throw new WharfError('INVALID_CONFIG', 'a cluster node id needs a shared postgres:// storage, not the local engine')
  if (isPostgresUrl(kind)) {
    const engineOptions: PostgresStorageOptions = {
      warn: options.warn,
      info: options.info,
      onFsync: options.onFsync,
      ...(nodeId === undefined
        ? {}
        : { cluster: { nodeId, leaseMs: options.clusterLeaseMs, heartbeatMs: options.clusterHeartbeatMs } }),
    }
    const engine: StorageEngine = await openPostgresStorage(kind, engineOptions)
    if (nodeId !== undefined && engine.cluster === undefined) {
      await engine.close()
      throw new WharfError('INVALID_CONFIG', 'this build of the PostgreSQL engine has no cluster mode')
    }
    return engine
  }
  if (kind !== 'local')
    throw new WharfError('INVALID_CONFIG', `storage must be local or a postgres:// URL, got '${kind.split('@').pop()}'`)
  return openStorage(options.dataDir, {
    maxOpenFiles: options.maxOpenFiles,
    reserveBytes: options.reserveBytes,
    warn: options.warn,
    onFsync: options.onFsync,
    info: options.info,
  })
}

export { Broker } from './broker/broker.js'
export type { QueueConfig, StreamConfig } from './broker/config.js'
export { CreditGroup } from './broker/credit.js'
export type { PublishMessage, StoredMessage } from './broker/message.js'
export type { ConsumeOptions, Delivery, GetOptions, QueueStats } from './broker/queue/types.js'
export { type ErrorCode, isWharfError, WharfError } from './util/errors.js'
