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
