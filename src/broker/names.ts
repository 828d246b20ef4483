// The one rule for names an operator picks through the admin surfaces (REST API, CLI, dashboard): Kafka's
// topic rule, so a stream, queue or exchange made there is usable by every client Wharf speaks — Kafka's
// included, which refuses anything else. Protocol clients keep their protocol's own, wider rules when they
// declare names themselves (AMQP's any 255-byte string, SQS's `.fifo` names, MQTT's internal session queues):
// those are checked where they are declared, and the catalogs only refuse what storage cannot hold.
import { WharfError } from '../util/errors.js'

/** Kafka's limit (249: the topic name plus a partition suffix must fit a 255-byte file name). */
export const NAME_LENGTH_MAX = 249
/** Kafka's legal topic characters. */
export const NAME_PATTERN = /^[a-zA-Z0-9._-]+$/

/** The rule in words, as every surface states it when it refuses a name. */
export const NAME_RULE = `1-${NAME_LENGTH_MAX} characters of letters a-z A-Z, digits, '.', '_' and '-', and not '.' or '..'`

/** Why `name` breaks the rule, or undefined when it keeps it. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'a name is required'
  if (name.length === 0 || name.length > NAME_LENGTH_MAX || !NAME_PATTERN.test(name) || name === '.' || name === '..')
    return `names are ${NAME_RULE}`
  return undefined
}

/** Throws INVALID_ARGUMENT naming the kind, the name and the rule unless `name` keeps it. */
export function checkName(kind: string, name: unknown): string {
  const problem = nameProblem(name)
  if (problem !== undefined)
    throw new WharfError('INVALID_ARGUMENT', `invalid ${kind} name ${JSON.stringify(name)}: ${problem}`)
  return name as string
}
