// Exchange declarations (validation, defaults, RabbitMQ's equivalence rules on redeclare), the
// predeclared exchanges, and the catalog shapes of exchanges and bindings.
import { WharfError } from '../../util/errors.js'
import { canonicalValue, encodeTable } from './arguments.js'
import {
  defaultExchangeRefused,
  exchangeNotFound,
  inequivalentExchange,
  invalidArgument,
  unknownExchangeType,
} from './errors.js'
import { amqpValueEquals } from './match/index.js'
import {
  type BindingDef,
  copyDestination,
  type Destination,
  destinationKey,
  type ExchangeDef,
  type ExchangeType,
  exchangeNameBytesMax,
  exchangeTypes,
} from './types.js'

/** An exchange.declare; type is a string because clients may ask for types Wharf does not have. */
export type ExchangeDeclare = Omit<Partial<ExchangeDef>, 'name' | 'type'> & { name: string; type: string }

export const KIND_EXCHANGE = 'exchange'
export const KIND_BINDING = 'binding'

export const builtins: ReadonlyArray<readonly [string, ExchangeType]> = [
  ['', 'direct'],
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
]

export interface StoredExchange {
  type: ExchangeType
  durable: boolean
  autoDelete: boolean
  internal: boolean
  arguments: unknown
}

export interface StoredBinding {
  source: string
  destination: Destination
  key: string
  syntax: 'amqp' | 'mqtt'
  arguments: unknown
}

/** The catalog form of a durable exchange. */
export function storedExchange(def: ExchangeDef): StoredExchange {
  const { type, autoDelete, internal } = def
  return { type, durable: true, autoDelete, internal, arguments: encodeTable(def.arguments) }
}

/** The catalog form of a durable binding (its arguments, the selector included, tagged by encodeTable). */
export function storedBinding(def: BindingDef & { syntax: 'amqp' | 'mqtt' }): StoredBinding {
  const { source, destination, key, syntax } = def
  return { source, destination, key, syntax, arguments: encodeTable(def.arguments) }
}

export function bindingId(b: {
  source: string
  destination: Destination
  key: string
  syntax: string
  arguments: object
}) {
  return JSON.stringify([b.source, destinationKey(b.destination), b.key, b.syntax, canonicalValue(b.arguments)])
}

/** Validates and fills in an exchange declaration; the arguments carry the alternate exchange. */
export function normalizeExchange(def: ExchangeDeclare): ExchangeDef {
  if (typeof def.name !== 'string' || Buffer.byteLength(def.name) > exchangeNameBytesMax)
    throw new WharfError('INVALID_ARGUMENT', `exchange name must be a string of at most ${exchangeNameBytesMax} bytes`)
  if (!exchangeTypes.includes(def.type as ExchangeType)) throw unknownExchangeType(String(def.type))
  const args: Record<string, unknown> = { ...(def.arguments ?? {}) }
  let ae: unknown = args['alternate-exchange']
  if (ae instanceof Uint8Array) ae = Buffer.from(ae).toString('utf8')
  if (def.alternateExchange !== undefined) {
    if (ae !== undefined && ae !== def.alternateExchange)
      throw new WharfError('INVALID_ARGUMENT', 'alternateExchange and the alternate-exchange argument differ')
    ae = def.alternateExchange
  }
  if (ae !== undefined && typeof ae !== 'string') throw invalidArgument(def.name, 'alternate-exchange', ae, 'a string')
  if (ae !== undefined) args['alternate-exchange'] = ae
  const out: ExchangeDef = {
    name: def.name,
    type: def.type as ExchangeType,
    durable: def.durable ?? false,
    autoDelete: def.autoDelete ?? false,
    internal: def.internal ?? false,
    arguments: Object.freeze(args),
  }
  if (ae !== undefined) out.alternateExchange = ae
  return Object.freeze(out)
}

export function assertEquivalent(current: ExchangeDef, wanted: ExchangeDef): void {
  for (const field of ['type', 'durable', 'autoDelete', 'internal'] as const)
    if (current[field] !== wanted[field])
      throw inequivalentExchange(current.name, field, true, wanted[field], current[field])
  // Compared by value: amqplib sends each integer in the smallest type that holds it.
  const keys = new Set([...Object.keys(current.arguments), ...Object.keys(wanted.arguments)])
  for (const key of keys) {
    const a = wanted.arguments[key]
    const b = current.arguments[key]
    if (!amqpValueEquals(a, b)) throw inequivalentExchange(current.name, key, false, a, b)
  }
}

/** A binding's definition, checked and filled in, with its source exchange (EXCHANGE_NOT_FOUND without one). */
export function resolveBinding<X>(binding: BindingDef, exchanges: ReadonlyMap<string, X>, destinationMustExist = true) {
  const destination = copyDestination(binding.destination)
  if (typeof binding.source !== 'string' || typeof binding.key !== 'string')
    throw new WharfError('INVALID_ARGUMENT', 'binding source and key must be strings')
  if (binding.syntax !== undefined && binding.syntax !== 'amqp' && binding.syntax !== 'mqtt')
    throw new WharfError('INVALID_ARGUMENT', `unknown binding syntax '${binding.syntax}'`)
  if (binding.source === '' || (destination.kind === 'exchange' && destination.name === ''))
    throw defaultExchangeRefused()
  const source = exchanges.get(binding.source)
  if (source === undefined) throw exchangeNotFound(binding.source)
  if (destinationMustExist && destination.kind === 'exchange' && !exchanges.has(destination.name))
    throw exchangeNotFound(destination.name)
  const def = {
    source: binding.source,
    destination,
    key: binding.key,
    arguments: Object.freeze({ ...(binding.arguments ?? {}) }),
    syntax: binding.syntax ?? ('amqp' as const),
  }
  return { def, source }
}
