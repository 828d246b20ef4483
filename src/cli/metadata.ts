// `wharf metadata` (as `kcat -L`): the broker, its listeners, and every stream with its partitions, leader
// and watermarks. Wharf is one node: it leads every partition and is the only replica.
import type { Command } from 'commander'
import { api, enc, type Json, listAll, print, withUrl } from './client.js'

/** The Kafka node id Wharf answers Metadata with (one broker). */
const NODE_ID = 0

export function registerMetadataCommand(program: Command): void {
  withUrl(
    program
      .command('metadata')
      .description('brokers, listeners, topics with partitions, leaders and watermarks (like kcat -L)')
      .option('-t, --topic <stream>', 'only this stream')
      .option('--json', 'print JSON'),
  ).action(async (o) => {
    const { items: listeners } = await api(o, 'GET', '/listeners')
    const streams: Json[] =
      o.topic === undefined
        ? await listAll(o, '/streams', undefined)
        : [await api(o, 'GET', `/streams/${enc(o.topic)}`)]
    const kafka = listeners.find((l: Json) => l.name === 'kafka')
    const brokers = [{ nodeId: NODE_ID, urls: kafka?.urls ?? [], controller: true }]
    const topics = streams.map((s) => ({
      name: s.name,
      partitions: s.partitions.map((p: Json) => ({
        partition: p.partition,
        leader: NODE_ID,
        replicas: [NODE_ID],
        isrs: [NODE_ID],
        low: p.logStartOffset,
        high: p.highWatermark,
      })),
    }))
    if (o.json) return print({ brokers, listeners, topics })
    const lines = [`Metadata from ${o.url}:`, ` ${brokers.length} broker(s):`]
    for (const b of brokers)
      lines.push(
        `  broker ${b.nodeId} at ${b.urls.join(', ') || '(no Kafka listener)'}${b.controller ? ' (controller)' : ''}`,
      )
    lines.push(` ${listeners.length} listener(s):`)
    for (const l of listeners)
      lines.push(`  ${l.name} port ${l.port}${l.urls.length > 0 ? ` ${l.urls.join(', ')}` : ''}`)
    lines.push(` ${topics.length} topic(s):`)
    for (const t of topics) {
      lines.push(`  topic "${t.name}" with ${t.partitions.length} partition(s):`)
      for (const p of t.partitions)
        lines.push(
          `    partition ${p.partition}, leader ${p.leader}, replicas: ${p.replicas.join(',')}, isrs: ${p.isrs.join(',')}, low ${p.low}, high ${p.high}`,
        )
    }
    print(lines.join('\n'))
  })
}
