// Admin deletes on a full disk (a real, small tmpfs): purge and DELETE of a queue or stream free space
// instead of failing with DISK_FULL, and a delete is whole — nothing of the queue (its stream, its catalog
// record) is left behind, now or after a restart. Needs root (mount); skipped elsewhere.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startHttpListener } from '../../../../src/protocols/http/listener.ts'
import { silentLogger } from '../../../../src/util/logger.ts'
import { fillDisk } from '../../../fixtures/fill-disk.ts'
import { createTestBroker } from '../../../fixtures/test-storage.ts'
import { mountTmpfs, removeTmpfs } from '../../../fixtures/tmpfs.ts'

async function call(url: string, method: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/api/v1${path}`, { method })
  return { status: response.status, body: await response.json() }
}

test('purge and DELETE work on a full disk and leave nothing half-deleted', async (t) => {
  const dir = mountTmpfs(t, 'wharf-admin-full-', '16m')
  if (dir === undefined) return
  try {
    const broker = await createTestBroker({ dataDir: dir, durability: 'always' })
    const listener = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
    const url = `http://127.0.0.1:${listener.port}`
    try {
      await broker.createQueue('purged')
      await broker.createQueue('deleted')
      await fillDisk(broker, { queues: ['purged', 'deleted'] })
      const depth = broker.queue('purged').depth()
      assert.ok(depth > 10)

      const purge = await call(url, 'POST', '/queues/purged/purge')
      assert.deepEqual(purge, { status: 200, body: { purged: depth } })
      assert.equal(broker.queue('purged').depth(), 0)

      const deleted = await call(url, 'DELETE', '/queues/deleted')
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body))
      assert.equal(broker.getQueue('deleted'), undefined)
      assert.ok(!broker.listStreams().some((s) => s.name === 'deleted'), "the queue's own stream went with it")

      assert.equal((await call(url, 'DELETE', '/streams/filler')).status, 200)
    } finally {
      await listener.close()
      await broker.close()
    }
    // What the deletes wrote is durable: a restart finds neither queue's messages nor the deleted queue.
    const again = await createTestBroker({ dataDir: dir, durability: 'always' })
    try {
      assert.deepEqual(
        again.listQueues().map((q) => q.name),
        ['purged'],
      )
      assert.equal(again.queue('purged').depth(), 0)
      assert.deepEqual(
        again.listStreams().map((s) => s.name),
        ['purged'],
      )
    } finally {
      await again.close()
    }
  } finally {
    removeTmpfs(dir)
  }
})

test('with no room even for the tombstones, queue and stream DELETE and purge are refused whole (507 DISK_FULL, nothing changed)', async (t) => {
  // 1 MiB: too small for the reserve, so nothing gives the delete room.
  const dir = mountTmpfs(t, 'wharf-admin-full-', '1m')
  if (dir === undefined) return
  try {
    let depth: number
    const broker = await createTestBroker({ dataDir: dir, durability: 'always' })
    const listener = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
    const url = `http://127.0.0.1:${listener.port}`
    try {
      await broker.createQueue('kept')
      await fillDisk(broker, { queues: ['kept'] })
      depth = broker.queue('kept').depth()
      assert.ok(depth > 0)

      for (const [method, path] of [
        ['DELETE', '/queues/kept'],
        ['POST', '/queues/kept/purge'],
      ] as const) {
        const refused = await call(url, method, path)
        assert.equal(refused.status, 507, `${method} ${path}: ${JSON.stringify(refused.body)}`)
        assert.equal((refused.body as { error: { code: string } }).error.code, 'DISK_FULL')
        assert.ok(broker.getQueue('kept') !== undefined, 'the queue is still there')
        assert.ok(
          broker.listStreams().some((s) => s.name === 'kept'),
          'with its stream',
        )
        assert.equal(broker.queue('kept').depth(), depth, 'and every message')
      }
      const filler = broker.stream('filler').partitions[0]!.highWatermark
      const refused = await call(url, 'DELETE', '/streams/filler')
      assert.equal(refused.status, 507, JSON.stringify(refused.body))
      assert.equal(broker.stream('filler').partitions[0]!.highWatermark, filler, 'the stream is still there, whole')
    } finally {
      await listener.close()
      await broker.close().catch(() => {})
    }
    const again = await createTestBroker({ dataDir: dir, durability: 'always' })
    try {
      assert.equal(again.queue('kept').depth(), depth)
      assert.ok(again.getStream('filler') !== undefined, 'the refused stream delete changed nothing on disk either')
    } finally {
      await again.close().catch(() => {})
    }
  } finally {
    removeTmpfs(dir)
  }
})
