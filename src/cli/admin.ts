// The wharf admin verbs. They talk to a running broker only through its REST admin API (the same API the
// dashboard uses), never to the data directory, so they work against a remote broker and cannot corrupt
// a live one. Failures print one line on stderr and exit non-zero.
import type { Command } from 'commander'
import { api, CliError, collect, enc, listAll, print, readStdin, withUrl } from './client.js'
import { createCommand, describeCommand, listCommand, positiveInt } from './commands.js'
import { registerQueueMessageCommands } from './queues.js'

export function registerAdminCommands(program: Command): void {
  const topics = program.command('topics').description('manage streams (Kafka topics)')
  listCommand(
    topics,
    'list streams',
    '/streams',
    (s) => `${s.name}\tpartitions=${s.partitions.length}\tmessagesIn=${s.messagesIn}`,
  )
  createCommand(
    topics,
    'stream',
    '/streams',
    (c) =>
      c
        .option('-p, --partitions <n>', 'partitions', positiveInt)
        .option('--retention-ms <ms>', 'retention (-1 keeps forever)', Number)
        .option('--schema-subject <subject>', 'validate values against this registry subject'),
    (o) => ({ partitions: o.partitions, retentionMs: o.retentionMs, schemaSubject: o.schemaSubject }),
  )
  withUrl(
    topics.command('delete <name>').description('delete a stream').option('--force', 'also delete queues reading it'),
  ).action(async (name, o) => {
    await api(o, 'DELETE', `/streams/${enc(name)}${o.force ? '?force=true' : ''}`)
    print(`deleted stream ${name}`)
  })
  describeCommand(topics, 'show a stream', '/streams')

  const queues = program.command('queues').description('manage queues')
  listCommand(
    queues,
    'list queues',
    '/queues',
    (q) => `${q.name}\tready=${q.ready}\tunacked=${q.inflight}\tdelayed=${q.delayed}\tconsumers=${q.consumers}`,
  )
  createCommand(
    queues,
    'queue',
    '/queues',
    (c) =>
      c
        .option('--lease-ms <ms>', 'visibility timeout', positiveInt)
        .option('--max-deliveries <n>', 'dead-letter after this many deliveries', positiveInt)
        .option('--dead-letter-queue <queue>', 'dead-letter target queue'),
    (o) => ({
      leaseMs: o.leaseMs,
      maxDeliveries: o.maxDeliveries,
      deadLetter: o.deadLetterQueue === undefined ? undefined : { queue: o.deadLetterQueue },
    }),
  )
  withUrl(queues.command('delete <name>').description('delete a queue').option('--if-empty', 'only when empty')).action(
    async (name, o) => {
      const result = await api(o, 'DELETE', `/queues/${enc(name)}${o.ifEmpty ? '?ifEmpty=true' : ''}`)
      print(`deleted queue ${name} (${result.messages} messages)`)
    },
  )
  describeCommand(queues, 'show a queue', '/queues')
  registerQueueMessageCommands(queues)

  withUrl(
    program
      .command('produce <stream> [messages...]')
      .description('produce messages (arguments, or one per stdin line) as UTF-8 text')
      .option('--queue', 'send to a queue instead of a stream')
      .option('-k, --key <key>', 'record key')
      .option('-p, --partition <n>', 'partition', positiveInt)
      // Not variadic: `-H a=1 message` must leave `message` to the positional argument.
      .option('-H, --header <name=value>', 'header (repeatable)', collect, []),
  ).action(async (stream: string, values: string[], o) => {
    const lines = values.length > 0 ? values : (await readStdin()).split('\n').filter((l) => l !== '')
    if (lines.length === 0) throw new CliError('nothing to produce: give messages as arguments or on stdin')
    const headers: Record<string, string> = {}
    for (const h of o.header as string[]) {
      const at = h.indexOf('=')
      if (at <= 0) throw new CliError(`header must be name=value, got '${h}'`)
      headers[h.slice(0, at)] = h.slice(at + 1)
    }
    const messages = lines.map((value) => ({
      value,
      headers,
      ...(o.key === undefined ? {} : { key: o.key }),
      ...(o.partition === undefined ? {} : { partition: o.partition }),
    }))
    const path = `/${o.queue ? 'queues' : 'streams'}/${enc(stream)}/messages`
    for (let i = 0; i < messages.length; i += 1000)
      await api(o, 'POST', path, { encoding: 'text', messages: messages.slice(i, i + 1000) })
    process.stderr.write(`produced ${messages.length} message(s) to ${stream}\n`)
  })

  withUrl(
    program
      .command('stats')
      .description('broker overview: counts, queue depths, group lag')
      .option('--json', 'print JSON'),
  ).action(async (o) => {
    const overview = await api(o, 'GET', '/overview')
    const queueList = await listAll(o, '/queues', undefined)
    const groups = await listAll(o, '/groups', undefined)
    if (o.json) return print({ overview, queues: queueList, groups })
    print(
      `streams=${overview.streams} queues=${overview.queues} exchanges=${overview.exchanges} groups=${overview.groups} topics=${overview.topics} messagesIn=${overview.messagesIn}`,
    )
    for (const q of queueList) print(`queue ${q.name}\tready=${q.ready}\tunacked=${q.inflight}`)
    for (const g of groups) print(`group ${g.group}\tstate=${g.state}\tlag=${g.lag}`)
  })
}
