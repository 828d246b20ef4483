// REST admin routes for AMQP-style routing: exchanges (list/declare/describe with bindings/delete) and
// bindings (list/bind/unbind, the same body for both).

import type { BindingDef, Destination } from '../../../broker/routing/router.js'
import { WharfError } from '../../../util/errors.js'
import { type AdminContext, bad, body, page, params, query } from './context.js'

function destinationOf(input: unknown): Destination {
  const d = input as { kind?: unknown; name?: unknown } | null
  if (
    d === null ||
    typeof d !== 'object' ||
    typeof d.name !== 'string' ||
    !['queue', 'stream', 'exchange'].includes(String(d.kind))
  ) {
    throw bad('destination must be {kind: queue|stream|exchange, name}')
  }
  return { kind: d.kind as 'queue' | 'stream' | 'exchange', name: d.name }
}

function bindingOf(input: Record<string, unknown>): BindingDef {
  if (typeof input.source !== 'string') throw bad('source (exchange name) is required')
  const args = input.arguments ?? {}
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw bad('arguments must be an object')
  return {
    source: input.source,
    destination: destinationOf(input.destination),
    key: typeof input.key === 'string' ? input.key : '',
    arguments: args as Record<string, unknown>,
  }
}

export function registerRoutingRoutes({ broker, route }: AdminContext): void {
  route('GET', '/exchanges', (r) => page(broker.router.listExchanges(), query(r), (e) => e.name))
  route(
    'POST',
    '/exchanges',
    async (r) => {
      const input = body(r)
      if (typeof input.name !== 'string' || typeof input.type !== 'string') throw bad('name and type are required')
      return broker.declareExchange(input as { name: string; type: string })
    },
    201,
  )
  route('GET', '/exchanges/:name', (r) => {
    const exchange = broker.router.getExchange(params(r).name!)
    if (exchange === undefined)
      throw new WharfError('EXCHANGE_NOT_FOUND', `exchange '${params(r).name}' does not exist`)
    return { ...exchange, bindings: broker.router.listBindings({ source: exchange.name }) }
  })
  route('DELETE', '/exchanges/:name', async (r) => {
    await broker.deleteExchange(params(r).name!, { ifUnused: query(r).ifUnused === 'true' })
    return { deleted: params(r).name }
  })
  route('GET', '/bindings', (r) =>
    page(
      broker.router.listBindings(),
      query(r),
      (b) => `${b.source} ${b.key} ${'name' in b.destination ? b.destination.name : b.destination.id}`,
    ),
  )
  route(
    'POST',
    '/bindings',
    async (r) => {
      const binding = bindingOf(body(r))
      await broker.bind(binding)
      return binding
    },
    201,
  )
  route('DELETE', '/bindings', async (r) => ({ removed: await broker.unbind(bindingOf(body(r))) }))
}
