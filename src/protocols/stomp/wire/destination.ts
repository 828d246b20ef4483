// Destinations as ActiveMQ names them: `/queue/X` is the Wharf queue X (the one AMQP 0-9-1 and SQS see),
// `/topic/X` is the `amq.topic` exchange with routing key X (RabbitMQ's convention, so MQTT `a/b`, AMQP
// `amq.topic a.b` and STOMP `/topic/a.b` meet). On SUBSCRIBE, ActiveMQ's wildcards `*` (one word) and `>`
// (the rest) become AMQP's `*` and `#`. `/temp-queue/X` and `/temp-topic/X` are the connection's own
// temporary destinations (X is its local name); in a `reply-to` they become `/remote-temp-queue/<name>` and
// `/remote-temp-topic/<name>` with the broker's name, which anyone may send to. `a,b` is a composite
// destination (SEND to each); a part without a `/…/` prefix is of the same kind as the part before it.
import { TOPIC_EXCHANGE, topicPattern } from '../../../broker/jms/jms.js'
import { StompFrameError } from './frame.js'

export { TOPIC_EXCHANGE }

export type Destination =
  | { kind: 'queue'; name: string }
  | { kind: 'topic'; key: string }
  /** The connection's own temporary destination, by the name the client gave it. */
  | { kind: 'temp-queue' | 'temp-topic'; local: string }
  /** A temporary destination by its broker name (another connection's, from a reply-to). */
  | { kind: 'remote-temp-queue' | 'remote-temp-topic'; name: string }

type Kind = Destination['kind']

const prefixes: ReadonlyArray<[string, Kind]> = [
  ['/queue/', 'queue'],
  ['/topic/', 'topic'],
  ['/temp-queue/', 'temp-queue'],
  ['/temp-topic/', 'temp-topic'],
  ['/remote-temp-queue/', 'remote-temp-queue'],
  ['/remote-temp-topic/', 'remote-temp-topic'],
]

/** Most parts of one composite destination. */
export const COMPOSITE_PARTS_MAX = 64

/** One destination (SUBSCRIBE, UNSUBSCRIBE): a composite one is refused. */
export function parseDestination(text: string | undefined): Destination {
  const parts = parseDestinations(text)
  if (parts.length > 1) throw new StompFrameError(`composite destinations are for SEND only: '${text}'`)
  return parts[0]!
}

/** A destination or a composite one (`/queue/a,/topic/b`, `/queue/a,b`): every part, in order, once. */
export function parseDestinations(text: string | undefined): Destination[] {
  if (text === undefined || text === '') throw new StompFrameError('missing destination header')
  if (!text.includes(',')) return [parseOne(text, undefined, text)]
  const parts = text.split(',')
  if (parts.length > COMPOSITE_PARTS_MAX)
    throw new StompFrameError(`too many composite destination parts (at most ${COMPOSITE_PARTS_MAX})`)
  const out: Destination[] = []
  const seen = new Set<string>()
  let kind: Kind | undefined
  for (const part of parts) {
    const d = parseOne(part.trim(), kind, text)
    kind = d.kind
    const key = destinationText(d)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(d)
  }
  return out
}

function parseOne(text: string, inherited: Kind | undefined, whole: string): Destination {
  let kind: Kind | undefined
  let name: string | undefined
  for (const [prefix, k] of prefixes) {
    if (text.startsWith(prefix)) {
      kind = k
      name = text.slice(prefix.length)
      break
    }
  }
  if (kind === undefined && inherited !== undefined && !text.startsWith('/')) {
    kind = inherited
    name = text
  }
  if (kind === undefined || name === undefined)
    throw new StompFrameError(
      `unknown destination '${whole}': use /queue/<name>, /topic/<name>, /temp-queue/<name> or /temp-topic/<name>`,
    )
  if (name === '' || name.includes('\u0000') || Buffer.byteLength(name) > 255)
    throw new StompFrameError(`invalid ${kind} name in '${whole}'`)
  switch (kind) {
    case 'queue':
      return { kind, name }
    case 'topic':
      return { kind, key: name }
    case 'temp-queue':
    case 'temp-topic':
      return { kind, local: name }
    default:
      return { kind, name }
  }
}

/** A topic subscription's binding key: ActiveMQ's `>` (the rest of the words) is AMQP's `#`. */
export function bindingKeyOf(key: string): string {
  return topicPattern(key)
}

export function destinationText(d: Destination): string {
  switch (d.kind) {
    case 'queue':
      return `/queue/${d.name}`
    case 'topic':
      return `/topic/${d.key}`
    case 'temp-queue':
    case 'temp-topic':
      return `/${d.kind}/${d.local}`
    default:
      return `/${d.kind}/${d.name}`
  }
}
