// The storage contract (contract.ts) on the local engine.
import { test } from 'node:test'
import { openStorage } from '../../src/storage/local/index.ts'
import { storageContract } from './contract.ts'
import { tempDir } from './helpers.ts'

storageContract(test, async (t) => {
  const dir = tempDir(t)
  return () => openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
})
