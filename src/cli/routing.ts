// `wharf exchanges list|describe|create|delete`, `wharf bindings list`, `wharf bind` and `wharf unbind`:
// AMQP-style routing through the REST admin API. A binding's destination is a queue unless
// --destination-type says stream or exchange.
import { type Command, InvalidArgumentError } from 'commander'
import { api, CliError, collect, enc, type Json, print, withUrl } from './client.js'
import { describeCommand, listCommand } from './commands.js'

const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers']
const DESTINATION_TYPES = ['queue', 'stream', 'exchange']

function oneOf(values: string[], what: string) {
  return (value: string) => {
    if (!values.includes(value)) throw new InvalidArgumentError(`${what} must be one of ${values.join(', ')}`)
    return value
  }
}

/** `name=value` pairs into an object; values that read as JSON (numbers, true, ...) keep their type. */
function argumentsOf(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new CliError(`an argument is name=value, got '${pair}'`)
    const raw = pair.slice(at + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {}
    out[pair.slice(0, at)] = value
  }
  return out
}

function bindingLine(b: Json): string {
  const d = b.destination
  return `${b.source === '' ? '(default)' : b.source}\t${d.kind}:${d.name ?? d.id}\tkey=${b.key}${
    Object.keys(b.arguments ?? {}).length > 0 ? `\targuments=${JSON.stringify(b.arguments)}` : ''
  }`
}

function bindCommand(program: Command, verb: 'bind' | 'unbind'): void {
  withUrl(
    program
      .command(`${verb} <exchange> <destination>`)
      .description(verb === 'bind' ? 'bind a queue, stream or exchange to an exchange' : 'remove a binding')
      .option('-k, --key <routing-key>', 'binding (routing) key', '')
      .option(
        '-t, --destination-type <type>',
        'queue, stream or exchange',
        oneOf(DESTINATION_TYPES, '--destination-type'),
        'queue',
      )
      .option('-a, --argument <name=value>', 'binding argument, e.g. x-match=any (repeatable)', collect, []),
  ).action(async (exchange: string, destination: string, o) => {
    const binding = {
      source: exchange,
      destination: { kind: o.destinationType, name: destination },
      key: o.key,
      arguments: argumentsOf(o.argument),
    }
    if (verb === 'bind') {
      await api(o, 'POST', '/bindings', binding)
      print(`bound ${o.destinationType} ${destination} to ${exchange} (key '${o.key}')`)
    } else {
      const { removed } = await api(o, 'DELETE', '/bindings', binding)
      if (!removed) throw new CliError(`no such binding of ${o.destinationType} ${destination} to ${exchange}`)
      print(`unbound ${o.destinationType} ${destination} from ${exchange} (key '${o.key}')`)
    }
  })
}

export function registerRoutingCommands(program: Command): void {
  const exchanges = program.command('exchanges').description('manage exchanges (AMQP routing)')
  listCommand(
    exchanges,
    'list exchanges',
    '/exchanges',
    (e) => `${e.name === '' ? '(default)' : e.name}\ttype=${e.type}${e.durable ? '' : '\ttransient'}`,
  )
  describeCommand(exchanges, 'show an exchange with its bindings', '/exchanges')
  withUrl(
    exchanges
      .command('create <name>')
      .description('declare an exchange')
      .option('-t, --type <type>', EXCHANGE_TYPES.join(', '), oneOf(EXCHANGE_TYPES, '--type'), 'direct')
      .option('--transient', 'not durable: gone after a restart')
      .option('--auto-delete', 'deleted when its last binding goes')
      .option('--internal', 'clients cannot publish to it, only other exchanges')
      .option('--alternate-exchange <exchange>', 'where unroutable messages go')
      .option('-a, --argument <name=value>', 'exchange argument (repeatable)', collect, []),
  ).action(async (name: string, o) => {
    const args = argumentsOf(o.argument)
    if (o.alternateExchange !== undefined) args['alternate-exchange'] = o.alternateExchange
    await api(o, 'POST', '/exchanges', {
      name,
      type: o.type,
      durable: !o.transient,
      autoDelete: Boolean(o.autoDelete),
      internal: Boolean(o.internal),
      arguments: args,
    })
    print(`created exchange ${name} (${o.type})`)
  })
  withUrl(
    exchanges
      .command('delete <name>')
      .description('delete an exchange and its bindings')
      .option('--if-unused', 'only when nothing is bound to it'),
  ).action(async (name: string, o) => {
    await api(o, 'DELETE', `/exchanges/${enc(name)}${o.ifUnused ? '?ifUnused=true' : ''}`)
    print(`deleted exchange ${name}`)
  })

  const bindings = program.command('bindings').description('list bindings (create them with bind, unbind)')
  listCommand(bindings, 'list bindings: source, destination, key', '/bindings', bindingLine)
  bindCommand(program, 'bind')
  bindCommand(program, 'unbind')
}
