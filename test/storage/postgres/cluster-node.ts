// A cluster member in a process of its own, for tests that SIGKILL or SIGSTOP it: opens the PostgreSQL engine
// in cluster mode and the logs named, then obeys JSON lines on stdin and reports JSON lines on stdout.
//   argv: <url> <nodeId> <leaseMs> <heartbeatMs> <log>...
//   in:  {"op":"append","log":"l1","id":"a-1"}          out: {"op":"acked","id":"a-1","offset":3}
//                                                        or {"op":"failed","id":"a-1","code":"NOT_OWNER"}
//   out: {"op":"ready"} once open; {"op":"owners","owners":{"l1":{"owner":1,"epoch":2},...}} on every change
import { createInterface } from 'node:readline'
import type { PartitionLog } from '../../../src/storage/api.ts'
import { openPostgresStorage } from '../../../src/storage/postgres/index.ts'

const [url, nodeId, leaseMs, heartbeatMs, ...names] = process.argv.slice(2)
const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`)

const engine = await openPostgresStorage(url!, {
  retentionCheckMs: 0,
  cluster: { nodeId: Number(nodeId), leaseMs: Number(leaseMs), heartbeatMs: Number(heartbeatMs) },
})
const cluster = engine.cluster!
const logs = new Map<string, PartitionLog>()
for (const name of names) logs.set(name, await engine.openLog(name))
const owners = () => Object.fromEntries(names.map((name) => [name, cluster.ownerOf(name) ?? null]))
cluster.onChange(() => say({ op: 'owners', owners: owners() }))
say({ op: 'ready', owners: owners() })

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { op: string; log: string; id: string }
  if (command.op !== 'append') return
  const log = logs.get(command.log)!
  log.appendRecords([{ key: null, value: Buffer.from(command.id), headers: [] }]).then(
    (result) => say({ op: 'acked', id: command.id, offset: result.baseOffset }),
    (error: { code?: string; message: string }) =>
      say({ op: 'failed', id: command.id, code: error.code ?? error.message }),
  )
})
process.on('SIGTERM', () => {
  engine.close().finally(() => process.exit(0))
})
