// `wharf groups list|describe|reset|delete` (as kafka-consumer-groups) and `wharf connections list|close`.
// A reset or delete needs a group without active members: the broker refuses otherwise and says why.
import { type Command, InvalidArgumentError } from 'commander'
import { api, CliError, enc, type Json, listAll, print, printItems, withUrl } from './client.js'
import { listCommand, positiveInt } from './commands.js'

function groupLine(g: Json): string {
  return `${g.group}\tstate=${g.state}\tmembers=${g.members}\tlag=${g.lag}`
}

/** A column-aligned table: a header row and the rows under it. */
export function table(header: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

function describeText(g: Json): string {
  const members = new Map<string, Json>(g.memberDetails.map((m: Json) => [m.memberId, m]))
  const lines = [`group ${g.group}\tstate=${g.state}\tprotocol=${g.protocolType || '-'}\tmembers=${g.members}`]
  if (g.memberDetails.length > 0) {
    lines.push(
      '',
      table(
        ['MEMBER', 'CLIENT-ID', 'HOST', 'ASSIGNMENT'],
        g.memberDetails.map((m: Json) => [
          m.memberId,
          m.clientId,
          m.clientHost,
          m.assignment.map((a: Json) => `${a.stream}:${a.partitions.join(',')}`).join(' ') || '-',
        ]),
      ),
    )
  }
  lines.push(
    '',
    table(
      ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CLIENT-ID'],
      g.partitions.map((p: Json) => [
        p.stream,
        p.partition,
        p.committed,
        p.highWatermark,
        p.lag,
        p.memberId === null ? null : (members.get(p.memberId)?.clientId ?? p.memberId),
      ]),
    ),
  )
  return lines.join('\n')
}

function dateTime(value: string): number {
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new InvalidArgumentError('must be a date and time, e.g. 2026-12-01T10:00:00Z')
  return ms
}

function registerGroupCommands(program: Command): void {
  const groups = program.command('groups').description('consumer groups: committed offsets, members and lag')
  listCommand(groups, 'list groups with state, members and total lag', '/groups', groupLine)
  withUrl(
    groups
      .command('describe <group>')
      .description('members with their assignments, and committed offset and lag per partition')
      .option('--json', 'print JSON'),
  ).action(async (group: string, o) => {
    const g = await api(o, 'GET', `/groups/${enc(group)}`)
    print(o.json ? g : describeText(g))
  })
  withUrl(
    groups
      .command('reset <group>')
      .description("move a group's committed offsets on a topic (the group must have no active members)")
      .requiredOption('-t, --topic <stream>', 'the stream (topic) whose offsets move')
      .option('-p, --partition <n>', 'only this partition', positiveInt)
      .option('--to-earliest', 'to the first offset still in the log')
      .option('--to-latest', 'to the end of the log (skip everything there now)')
      .option('--to-offset <offset>', 'to this offset (clamped to the log)', positiveInt)
      .option('--to-datetime <iso>', 'to the first message at or after this time', dateTime),
  ).action(async (group: string, o) => {
    const targets = [
      o.toEarliest && { to: 'earliest' },
      o.toLatest && { to: 'latest' },
      o.toOffset !== undefined && { to: 'offset', offset: o.toOffset },
      o.toDatetime !== undefined && { to: 'timestamp', timestamp: o.toDatetime },
    ].filter(Boolean)
    if (targets.length !== 1) throw new CliError('give one of --to-earliest, --to-latest, --to-offset, --to-datetime')
    const { offsets } = await api(o, 'POST', `/groups/${enc(group)}/reset`, {
      stream: o.topic,
      ...targets[0],
      ...(o.partition === undefined ? {} : { partition: o.partition }),
    })
    for (const p of offsets) print(`${group}\t${o.topic}\tpartition=${p.partition}\toffset=${p.offset}`)
  })
  withUrl(
    groups.command('delete <group>').description('delete a group and its committed offsets (no active members)'),
  ).action(async (group: string, o) => {
    await api(o, 'DELETE', `/groups/${enc(group)}`)
    print(`deleted group ${group}`)
  })
}

function connectionLine(c: Json): string {
  const client = [c.clientId, c.clientName, c.clientVersion].filter((v) => typeof v === 'string' && v !== '')
  return `${c.id}\t${c.protocol}\t${c.remoteAddress}\tuser=${c.user ?? '-'}\tclient=${client.join(' ') || '-'}`
}

function registerConnectionCommands(program: Command): void {
  const connections = program.command('connections').description('client connections (Kafka, AMQP, MQTT)')
  withUrl(
    connections
      .command('list')
      .description('list open connections, oldest first')
      .option('--protocol <protocol>', 'kafka, amqp or mqtt')
      .option('-q, --filter <text>', 'id, address, client or user contains')
      .option('--json', 'print JSON'),
  ).action(async (o) => {
    const path = o.protocol === undefined ? '/connections' : `/connections?protocol=${enc(o.protocol)}`
    printItems(await listAll(o, path, o.filter), o.json, connectionLine)
  })
  withUrl(
    connections.command('close <id>').description('close a connection (the client sees a protocol-level close)'),
  ).action(async (id: string, o) => {
    await api(o, 'DELETE', `/connections/${enc(id)}`)
    print(`closed connection ${id}`)
  })
}

export function registerOperationCommands(program: Command): void {
  registerGroupCommands(program)
  registerConnectionCommands(program)
}
