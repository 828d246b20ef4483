// The storage contract (../contract.ts) on the PostgreSQL engine: one private server, a database per test.
import { test } from 'node:test'
import { openPostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'
import { storageContract } from '../contract.ts'

test('the storage contract holds on PostgreSQL', async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  let n = 0
  await Promise.all(
    storageContract(
      (name, fn) => t.test(name, fn),
      async () => {
        const url = await server.createDatabase(`contract_${n++}`)
        return () => openPostgresStorage(url, { retentionCheckMs: 0 })
      },
    ),
  )
})
