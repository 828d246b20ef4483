// `--node-id` (WHARF_NODE_ID, "nodeId"): a broker of a cluster, which needs a shared postgres:// storage; with
// the local engine it is refused before anything starts, naming both settings.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/server/config.ts'
import { spawnWharf } from '../fixtures/wharf-process.ts'

const postgres = 'postgres://wharf:wharf@127.0.0.1:1/wharf'

test('node id: unset is one broker; the flag and WHARF_NODE_ID set it; it needs postgres storage', () => {
  assert.equal(loadConfig({ env: {}, cwd: '/tmp' }).nodeId, -1)
  assert.equal(loadConfig({ env: {}, cwd: '/tmp', flags: { nodeId: '3', storage: postgres } }).nodeId, 3)
  assert.equal(loadConfig({ env: { WHARF_NODE_ID: '7', WHARF_STORAGE: postgres }, cwd: '/tmp' }).nodeId, 7)
  assert.throws(
    () => loadConfig({ env: {}, cwd: '/tmp', flags: { nodeId: '1' } }),
    (error: Error) => /--node-id .*needs a shared postgres:\/\/ --storage/.test(error.message),
  )
  for (const bad of ['-1', 'x', '1.5', '2147483648'])
    assert.throws(
      () => loadConfig({ env: {}, cwd: '/tmp', flags: { nodeId: bad, storage: postgres } }),
      /--node-id/,
      bad,
    )
})

test('wharf start --node-id with the local engine exits with the error, before listening', async () => {
  const wharf = spawnWharf(['--data-dir', '/tmp/wharf-never-created-node-id', '--node-id', '2'])
  const code = await wharf.exit
  assert.notEqual(code, 0)
  assert.match(wharf.output(), /--node-id .*needs a shared postgres:\/\/ --storage/)
  assert.doesNotMatch(wharf.output(), /wharf ready/)
})

test('cluster lease and heartbeat: defaults 6000/1500; flags and WHARF_CLUSTER_* set them; the engine rules are checked first', () => {
  const defaults = loadConfig({ env: {}, cwd: '/tmp', flags: { nodeId: '1', storage: postgres } })
  assert.deepEqual([defaults.clusterLeaseMs, defaults.clusterHeartbeatMs], [6_000, 1_500])
  const flags = loadConfig({
    env: {},
    cwd: '/tmp',
    flags: { nodeId: '1', storage: postgres, clusterLeaseMs: '3000', clusterHeartbeatMs: '500' },
  })
  assert.deepEqual([flags.clusterLeaseMs, flags.clusterHeartbeatMs], [3000, 500])
  const env = loadConfig({
    env: {
      WHARF_NODE_ID: '2',
      WHARF_STORAGE: postgres,
      WHARF_CLUSTER_LEASE_MS: '4000',
      WHARF_CLUSTER_HEARTBEAT_MS: '1000',
    },
    cwd: '/tmp',
  })
  assert.deepEqual([env.clusterLeaseMs, env.clusterHeartbeatMs], [4000, 1000])
  for (const [lease, heartbeat] of [
    ['0', '500'],
    ['x', '500'],
    ['3000', '0'],
    ['3000', '1.5'],
  ])
    assert.throws(
      () =>
        loadConfig({
          env: {},
          cwd: '/tmp',
          flags: { nodeId: '1', storage: postgres, clusterLeaseMs: lease, clusterHeartbeatMs: heartbeat },
        }),
      /--cluster-(lease|heartbeat)-ms must be a positive integer/,
      `${lease}/${heartbeat}`,
    )
  // The engine renews at least twice per lease, so one late heartbeat does not cost a broker its partitions.
  assert.throws(
    () =>
      loadConfig({
        env: {},
        cwd: '/tmp',
        flags: { nodeId: '1', storage: postgres, clusterLeaseMs: '3000', clusterHeartbeatMs: '2000' },
      }),
    /--cluster-lease-ms .*\(3000\) must be at least twice --cluster-heartbeat-ms .*\(2000\)/,
  )
  assert.throws(
    () => loadConfig({ env: {}, cwd: '/tmp', flags: { storage: postgres, clusterLeaseMs: '3000' } }),
    /--cluster-lease-ms .* apply to a cluster: they need --node-id/,
  )
})
