// `wharf queues get|peek|purge|redrive`: the message-level verbs on a queue. `get` takes messages as a
// consumer would (leased, then acked, requeued or rejected: RabbitMQ's "get messages" ack modes); `peek`
// only looks. Message lines are the values as text, or one JSON object per line with --json.
import type { Command } from 'commander'
import { api, CliError, enc, type Json, print, withUrl } from './client.js'
import { positiveInt } from './commands.js'

/** One consumed or peeked message: its value as text, or the API's JSON view on one line. */
export function messageLine(message: Json, json: boolean | undefined): string {
  return json ? JSON.stringify(message) : String(message.value)
}

export function registerQueueMessageCommands(queues: Command): void {
  withUrl(
    queues
      .command('get <queue>')
      .description('take messages from a queue (default: requeue them afterwards; --ack removes them)')
      .option('-n, --count <n>', 'messages to take (1-1000)', positiveInt, 1)
      .option('--ack', 'acknowledge: the messages leave the queue')
      .option('--requeue', 'return them to the queue, marked redelivered (the default)')
      .option('--reject', 'reject: dead-letter them (or drop them when the queue has no dead-letter target)')
      .option('--json', 'print each message as a JSON line (with redelivered and deliveryCount)'),
  ).action(async (queue: string, o) => {
    const modes = (['ack', 'requeue', 'reject'] as const).filter((m) => o[m])
    if (modes.length > 1) throw new CliError('give one of --ack, --requeue, --reject')
    const ackMode = modes[0] ?? 'requeue'
    const { messages } = await api(o, 'POST', `/queues/${enc(queue)}/get`, {
      count: o.count,
      ackMode,
      encoding: 'text',
    })
    for (const m of messages) print(messageLine(m, o.json))
    process.stderr.write(`${messages.length} message(s) from ${queue} (${ackMode})\n`)
  })

  withUrl(
    queues
      .command('peek <queue>')
      .description('show unacked messages without taking them')
      .option('-n, --count <n>', 'messages to show (1-1000)', positiveInt, 20)
      .option('--json', 'print each message as a JSON line'),
  ).action(async (queue: string, o) => {
    const { messages } = await api(o, 'GET', `/queues/${enc(queue)}/messages?limit=${o.count}&encoding=text`)
    for (const m of messages) print(messageLine(m, o.json))
  })

  withUrl(queues.command('purge <queue>').description('remove every message not in flight')).action(
    async (queue: string, o) => {
      const { purged } = await api(o, 'POST', `/queues/${enc(queue)}/purge`)
      print(`purged ${purged} message(s) from ${queue}`)
    },
  )

  withUrl(
    queues
      .command('redrive <dead-letter-queue>')
      .description('move dead-lettered messages back to the queue each came from (or --to one queue)')
      .option('--to <queue>', 'move them all to this queue instead'),
  ).action(async (queue: string, o) => {
    const { moved } = await api(
      o,
      'POST',
      `/queues/${enc(queue)}/redrive`,
      o.to === undefined ? {} : { destination: o.to },
    )
    print(`moved ${moved} message(s) from ${queue}`)
  })
}
