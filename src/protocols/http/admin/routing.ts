// REST admin routes for AMQP-style routing: exchanges (list/declare/describe with bindings/delete) and
// bindings (list/bind/unbind, the same body for both), and publishing to an exchange with AMQP properties
// (Write on the Exchange). ACL: Create, Describe, Delete on the Exchange;
// bind and unbind need Read on the source Exchange and Write on the destination (Topic or Exchange).
import type { FastifyRequest } from 'fastify'
import { checkName } from '../../../broker/names.js'
import type { BindingDef, Destination } from '../../../broker/routing/router.js'
import { WharfError } from '../../../util/errors.js'
import { type AdminContext, type Authorize, bad, body, page, params, query } from './context.js'
import { publishMessages } from './messages.js'

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

/** Bind/unbind: read from the source exchange, write into the destination. */
function authorizeBinding(authorize: Authorize, request: FastifyRequest, binding: BindingDef): void {
  authorize(request, 'Read', 'Exchange', binding.source)
  const d = binding.destination as Destination & { name: string }
  authorize(request, 'Write', d.kind === 'exchange' ? 'Exchange' : 'Topic', d.name)
}

export function registerRoutingRoutes({ broker, route, authorize, withProperties }: AdminContext): void {
  route('GET', '/exchanges', (r) => page(broker.router.listExchanges(), query(r), (e) => e.name))
  route(
    'POST',
    '/exchanges',
    async (r) => {
      const input = body(r)
      checkName('exchange', input.name)
      if (typeof input.type !== 'string') throw bad('type is required (direct, fanout, topic or headers)')
      authorize(r, 'Create', 'Exchange', input.name as string)
      return broker.declareExchange(input as { name: string; type: string })
    },
    201,
  )
  route('GET', '/exchanges/:name', (r) => {
    authorize(r, 'Describe', 'Exchange', params(r).name!)
    const exchange = broker.router.getExchange(params(r).name!)
    if (exchange === undefined)
      throw new WharfError('EXCHANGE_NOT_FOUND', `exchange '${params(r).name}' does not exist`)
    return { ...exchange, bindings: broker.router.listBindings({ source: exchange.name }) }
  })
  route('DELETE', '/exchanges/:name', async (r) => {
    authorize(r, 'Delete', 'Exchange', params(r).name!)
    await broker.deleteExchange(params(r).name!, { ifUnused: query(r).ifUnused === 'true' })
    return { deleted: params(r).name }
  })
  // Publish one message as an AMQP client would: routing key, body, and AMQP properties by name.
  route('POST', '/exchanges/:name/publish', async (r) => {
    const exchange = params(r).name!
    authorize(r, 'Write', 'Exchange', exchange)
    if (broker.router.getExchange(exchange) === undefined)
      throw new WharfError('EXCHANGE_NOT_FOUND', `exchange '${exchange}' does not exist`)
    const input = body(r)
    const routingKey = input.routingKey ?? ''
    if (typeof routingKey !== 'string') throw bad('routingKey must be a string')
    const properties = input.properties ?? {}
    if (properties === null || typeof properties !== 'object' || Array.isArray(properties))
      throw bad('properties must be an object of AMQP properties by name')
    const [plain] = publishMessages({ ...input, messages: undefined })
    const value = plain!.value === null ? Buffer.alloc(0) : Buffer.from(plain!.value as Buffer)
    const message =
      Object.keys(properties).length === 0 ? { value } : withProperties(properties as Record<string, unknown>, value)
    return broker.publish(exchange, routingKey, message)
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
      authorizeBinding(authorize, r, binding)
      await broker.bind(binding)
      return binding
    },
    201,
  )
  route('DELETE', '/bindings', async (r) => {
    const binding = bindingOf(body(r))
    authorizeBinding(authorize, r, binding)
    return { removed: await broker.unbind(binding) }
  })
}
