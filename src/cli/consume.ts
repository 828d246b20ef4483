// `wharf consume <stream>`: prints a stream's messages, from every partition (taking turns, a page each) or
// one. With --group it reads from the group's committed offsets and commits after each printed page, so a
// second run continues where the first stopped (at least once: a crash between print and commit repeats a
// page). The CLI is not a Kafka group member: the broker refuses its commits while Kafka consumers are
// active in the group, and two `wharf consume --group` runs at once would both read every partition.
import type { Command } from 'commander'
import { api, CliError, enc, type Json, print, type Target, withUrl } from './client.js'
import { positiveInt } from './commands.js'
import { messageLine } from './queues.js'

const FOLLOW_POLL_MS = 500
const PAGE_MAX = 1000

type Start = number | 'earliest' | 'latest'

function startOf(value: string): Start {
  if (value === 'earliest' || value === 'beginning') return 'earliest'
  if (value === 'latest' || value === 'end') return 'latest'
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(`--offset must be earliest, latest or an offset, got '${value}'`)
  return n
}

interface Position {
  partition: number
  offset: number
}

/** Where each partition starts: the group's commit if there is one, else --offset (clamped to the log). */
async function startPositions(
  target: Target,
  stream: Json,
  partitions: number[],
  start: Start,
  group: string | undefined,
): Promise<Position[]> {
  const committed = new Map<number, number>()
  if (group !== undefined) {
    const described = await api(target, 'GET', `/groups/${enc(group)}`)
    // Checked before printing anything: the broker would refuse the first commit anyway.
    if (described.members > 0)
      throw new CliError(
        `group ${group} has ${described.members} active member(s) (state ${described.state}); the CLI commits only for groups without Kafka consumers`,
      )
    for (const p of described.partitions) if (p.stream === stream.name) committed.set(p.partition, p.committed)
  }
  return partitions.map((partition) => {
    const log = stream.partitions[partition]
    const own = committed.get(partition)
    if (own !== undefined && own !== null) return { partition, offset: own }
    if (start === 'earliest') return { partition, offset: log.logStartOffset }
    if (start === 'latest') return { partition, offset: log.highWatermark }
    return { partition, offset: Math.max(start, log.logStartOffset) }
  })
}

export function registerConsumeCommand(program: Command): void {
  withUrl(
    program
      .command('consume <stream>')
      .description('print messages of a stream (values as text, one per line), from every partition by default')
      .option('-p, --partition <n>', 'only this partition', positiveInt)
      .option('-o, --offset <offset>', 'where to start: earliest, latest or an offset', 'earliest')
      .option('--from-beginning', 'start at the earliest offset (the default; as kafka-console-consumer)')
      .option('-g, --group <group>', "start at this group's committed offsets and commit what was printed")
      .option('-n, --limit <n>', 'stop after this many messages', positiveInt)
      .option('-f, --follow', 'keep waiting for new messages (Ctrl-C stops)')
      .option('--json', 'print each message as a JSON line (partition, offset, key, headers, value)'),
  ).action(async (name: string, o) => {
    const stream = await api(o, 'GET', `/streams/${enc(name)}`)
    const count = stream.partitions.length as number
    if (o.partition !== undefined && o.partition >= count)
      throw new CliError(`stream ${name} has ${count} partition(s): --partition must be below ${count}`)
    const partitions = o.partition === undefined ? [...Array(count).keys()] : [o.partition as number]
    const start = o.fromBeginning ? 'earliest' : startOf(o.offset)
    const positions = await startPositions(o, stream, partitions, start, o.group)
    let printed = 0
    let stop = false
    process.once('SIGINT', () => {
      stop = true
    })
    const remaining = () => (o.limit === undefined ? PAGE_MAX : Math.min(PAGE_MAX, o.limit - printed))
    while (!stop && remaining() > 0) {
      let got = 0
      for (const position of positions) {
        if (remaining() <= 0) break
        const page = await api(
          o,
          'GET',
          `/streams/${enc(name)}/messages?partition=${position.partition}&offset=${position.offset}&limit=${remaining()}&encoding=text`,
        )
        for (const m of page.messages) print(messageLine(m, o.json))
        got += page.messages.length
        printed += page.messages.length
        if (page.nextOffset !== position.offset) {
          position.offset = page.nextOffset
          if (o.group !== undefined)
            await api(o, 'POST', `/groups/${enc(o.group)}/reset`, {
              stream: name,
              to: 'offset',
              offset: position.offset,
              partition: position.partition,
            })
        }
      }
      if (got === 0) {
        if (!o.follow) break
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS))
      }
    }
  })
}
