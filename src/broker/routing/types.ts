// Router vocabulary: exchanges, bindings, destinations, the route result and the catalog the router
// persists to. Argument values and their catalog form are in arguments.ts, router errors in errors.ts.
import { WharfError } from '../../util/errors.js'

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers'
export const exchangeTypes: readonly ExchangeType[] = ['direct', 'fanout', 'topic', 'headers']

export interface ExchangeDef {
  name: string
  type: ExchangeType
  durable: boolean
  autoDelete: boolean
  internal: boolean
  /** Where a publish goes when this exchange's bindings match nothing (the `alternate-exchange` argument). */
  alternateExchange?: string
  arguments: Record<string, unknown>
}

export type LeafDestination = { kind: 'queue' | 'stream'; name: string } | { kind: 'sink'; id: string }
export type Destination = LeafDestination | { kind: 'exchange'; name: string }

export interface BindingDef {
  source: string
  destination: Destination
  key: string
  arguments: Record<string, unknown>
  /** 'amqp' (the source exchange's own semantics, the default) or 'mqtt' (an MQTT topic filter on a topic exchange). */
  syntax?: 'amqp' | 'mqtt'
  /**
   * Whether the binding survives a restart. Defaults to the source's durability; it is never persisted
   * when the source (or a destination exchange) is transient or the destination is a sink.
   */
  durable?: boolean
}

export interface RouteResult {
  /** Deduplicated leaf destinations. The objects are shared by the router: do not mutate them. */
  destinations: LeafDestination[]
  /** True when the publish reached no destination (AMQP mandatory → basic.return 312 NO_ROUTE). */
  unroutable: boolean
}

/** The subset of the storage MetadataStore the router needs (kinds 'exchange', 'binding', 'sns-*'). */
export interface RouterCatalog {
  get<T = unknown>(kind: string, name: string): T | undefined
  put(kind: string, name: string, value: unknown): Promise<void>
  delete(kind: string, name: string): Promise<void>
  list<T = unknown>(kind: string): Array<[string, T]>
}

/** AMQP shortstr bound on exchange names and binding keys of the AMQP syntax. */
export const exchangeNameBytesMax = 255

export function destinationKey(destination: Destination): string {
  return destination.kind === 'sink' ? `sink:${destination.id}` : `${destination.kind}:${destination.name}`
}

/** A validated, frozen copy of a destination (callers may reuse their own objects). */
export function copyDestination(destination: Destination): Destination {
  switch (destination?.kind) {
    case 'queue':
    case 'stream':
    case 'exchange':
      if (typeof destination.name !== 'string') break
      return Object.freeze({ kind: destination.kind, name: destination.name })
    case 'sink':
      if (typeof destination.id !== 'string') break
      return Object.freeze({ kind: 'sink', id: destination.id })
  }
  throw new WharfError('INVALID_ARGUMENT', 'destination must be a queue, stream, exchange or sink')
}
