// The cluster settings of `wharf start`: this broker's node id among brokers sharing one postgres:// storage,
// and the lease and heartbeat of its membership (storage/postgres/cluster). Part of WharfConfig; kept here so
// the group's defaults, kinds and combination rules sit together.
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LEASE_MS } from '../storage/postgres/cluster/defaults.js'
import { WharfError } from '../util/errors.js'
import { type Kind, settingNames } from './config-values.js'

export interface ClusterConfig {
  /** This broker's id (Kafka's node id) in a cluster sharing a postgres:// storage; -1 (default): one broker. */
  nodeId: number
  /** How long a broker's membership (and the controller's) lease lasts without renewal: a dead broker's logs move after it (ms). */
  clusterLeaseMs: number
  /** How often a broker renews its lease and re-reads members and owners (ms); at most half the lease. */
  clusterHeartbeatMs: number
}

/** The engine's defaults (storage/postgres/cluster/defaults.ts). */
export const clusterConfigDefaults: ClusterConfig = {
  nodeId: -1,
  clusterLeaseMs: DEFAULT_LEASE_MS,
  clusterHeartbeatMs: DEFAULT_HEARTBEAT_MS,
}

export const clusterConfigKinds: Record<keyof ClusterConfig, Kind> = {
  nodeId: 'nodeId',
  clusterLeaseMs: 'count',
  clusterHeartbeatMs: 'count',
}

/** Refuses cluster settings that are valid alone but not together (the engine's rules, checked before it starts). */
export function checkClusterCombinations(config: ClusterConfig & { storage: string }): void {
  if (config.nodeId !== -1 && config.storage === 'local')
    throw new WharfError(
      'INVALID_CONFIG',
      `${settingNames('nodeId')} needs a shared postgres:// ${settingNames('storage')}`,
    )
  const tuned =
    config.clusterLeaseMs !== clusterConfigDefaults.clusterLeaseMs ||
    config.clusterHeartbeatMs !== clusterConfigDefaults.clusterHeartbeatMs
  if (tuned && config.nodeId === -1)
    throw new WharfError(
      'INVALID_CONFIG',
      `${settingNames('clusterLeaseMs')} and ${settingNames('clusterHeartbeatMs')} apply to a cluster: they need ${settingNames('nodeId')}`,
    )
  if (config.clusterHeartbeatMs * 2 > config.clusterLeaseMs)
    throw new WharfError(
      'INVALID_CONFIG',
      `${settingNames('clusterLeaseMs')} (${config.clusterLeaseMs}) must be at least twice ${settingNames('clusterHeartbeatMs')} (${config.clusterHeartbeatMs})`,
    )
}
