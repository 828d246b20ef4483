import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Destination, Router } from '../../../src/broker/routing/router.ts'
import { toAmqpError } from '../../../src/protocols/amqp/errors.ts'
import { isWharfError } from '../../../src/util/errors.ts'
import { MemoryMetadata } from '../../fixtures/memory-metadata.ts'

const q = (name: string): Destination => ({ kind: 'queue', name })
const x = (name: string): Destination => ({ kind: 'exchange', name })

function routed(router: Router, exchange: string, key: string, headers?: Record<string, unknown>): string[] {
  return router
    .route(exchange, key, headers)
    .destinations.map((d) => (d.kind === 'sink' ? `sink:${d.id}` : `${d.kind}:${d.name}`))
    .sort()
}

test('delete removes bindings both ways; if-unused looks at source bindings', async () => {
  const router = new Router()
  await router.declareExchange({ name: 'up', type: 'fanout' })
  await router.declareExchange({ name: 'mid', type: 'fanout' })
  await router.bind({ source: 'up', destination: x('mid'), key: '', arguments: {} })
  await router.bind({ source: 'mid', destination: q('q'), key: '', arguments: {} })
  await assert.rejects(router.deleteExchange('mid', { ifUnused: true }), (e: unknown) => {
    return (
      isWharfError(e, 'PRECONDITION_FAILED') &&
      /^PRECONDITION_FAILED - exchange 'mid' in vhost '\/' in use$/.test(toAmqpError(e, 0, 0).message)
    )
  })
  assert.ok(router.getExchange('mid'), 'still there after the refused delete')
  await router.deleteExchange('mid')
  assert.equal(router.getExchange('mid'), undefined)
  assert.deepEqual(router.listBindings({ source: 'up' }), [], 'inbound binding removed too')
  assert.deepEqual(router.listBindings({ destination: q('q') }), [])
  assert.equal(router.route('up', '').unroutable, true)
  await router.deleteExchange('mid') // missing: no error, as in RabbitMQ
  // if-unused ignores bindings where the exchange is only the destination.
  await router.declareExchange({ name: 'mid', type: 'fanout' })
  await router.bind({ source: 'up', destination: x('mid'), key: '', arguments: {} })
  await router.deleteExchange('mid', { ifUnused: true })
  assert.equal(router.getExchange('mid'), undefined)
})

test('auto-delete exchanges go with their last source binding, transitively', async () => {
  const router = new Router()
  await router.declareExchange({ name: 'auto', type: 'direct', autoDelete: true })
  await router.bind({ source: 'auto', destination: q('a'), key: 'k', arguments: {} })
  await router.bind({ source: 'auto', destination: q('b'), key: 'k', arguments: {} })
  await router.unbind({ source: 'auto', destination: q('a'), key: 'k', arguments: {} })
  assert.ok(router.getExchange('auto'), 'one binding left')
  await router.unbindDestination(q('b'))
  assert.equal(router.getExchange('auto'), undefined, 'deleted with its last binding')

  // outer(auto) → inner(auto) → queue c. Deleting queue c empties inner, which empties outer.
  await router.declareExchange({ name: 'outer', type: 'fanout', autoDelete: true })
  await router.declareExchange({ name: 'inner', type: 'fanout', autoDelete: true })
  await router.declareExchange({ name: 'keeper', type: 'fanout' })
  await router.bind({ source: 'outer', destination: x('inner'), key: '', arguments: {} })
  await router.bind({ source: 'inner', destination: q('c'), key: '', arguments: {} })
  await router.bind({ source: 'keeper', destination: x('inner'), key: '', arguments: {} })
  assert.deepEqual(routed(router, 'outer', ''), ['queue:c'])
  await router.unbindDestination(q('c'))
  assert.equal(router.getExchange('inner'), undefined)
  assert.equal(router.getExchange('outer'), undefined)
  assert.ok(router.getExchange('keeper'), 'not auto-delete')
  assert.deepEqual(router.listBindings({ source: 'keeper' }), [])
  // A fresh auto-delete exchange without bindings stays until it had one.
  await router.declareExchange({ name: 'fresh', type: 'topic', autoDelete: true })
  assert.ok(router.getExchange('fresh'))
})

test('unbindDestination removes a sink from every exchange', async () => {
  const router = new Router()
  const sink: Destination = { kind: 'sink', id: 'session-1' }
  await router.bind({ source: 'amq.topic', destination: sink, key: 'a/#', arguments: {}, syntax: 'mqtt' })
  await router.bind({ source: 'amq.topic', destination: sink, key: 'b.*', arguments: {} })
  await router.bind({ source: 'amq.fanout', destination: sink, key: '', arguments: {} })
  await router.bind({ source: 'amq.fanout', destination: q('stay'), key: '', arguments: {} })
  assert.deepEqual(routed(router, 'amq.topic', 'a.z'), ['sink:session-1'])
  await router.unbindDestination(sink)
  assert.deepEqual(router.listBindings({ destination: sink }), [])
  assert.equal(router.route('amq.topic', 'a.z').unroutable, true)
  assert.equal(router.route('amq.topic', 'b.z').unroutable, true)
  assert.deepEqual(routed(router, 'amq.fanout', ''), ['queue:stay'])
})

test('durable exchanges and bindings survive Router.open; transient ones do not', async () => {
  const catalog = new MemoryMetadata()
  const queues = new Set(['dq', 'tq'])
  const first = await Router.open(catalog, { queueExists: (n) => queues.has(n) })
  const args = {
    'x-big': 2n ** 62n,
    'x-bytes': Buffer.from('ab'),
    'x-table': { n: 1, when: new Date(7) },
    'x-list': [1, 'a'],
  }
  await first.declareExchange({ name: 'dx', type: 'topic', durable: true, alternateExchange: 'ae', arguments: args })
  await first.declareExchange({ name: 'ae', type: 'fanout', durable: true })
  await first.declareExchange({ name: 'tx', type: 'fanout', durable: false })
  await first.declareExchange({ name: 'hx', type: 'headers', durable: true })
  await first.bind({ source: 'dx', destination: q('dq'), key: 'a.*', arguments: {} })
  await first.bind({ source: 'dx', destination: q('tq'), key: 'a.b', arguments: {}, durable: false })
  await first.bind({ source: 'dx', destination: { kind: 'sink', id: 's' }, key: 'a/#', arguments: {}, syntax: 'mqtt' })
  await first.bind({
    source: 'dx',
    destination: { kind: 'stream', name: 'log' },
    key: 'a/+',
    arguments: {},
    syntax: 'mqtt',
  })
  await first.bind({ source: 'dx', destination: x('tx'), key: '#', arguments: {} }) // to a transient exchange
  await first.bind({ source: 'tx', destination: q('dq'), key: '', arguments: {} }) // from a transient exchange
  await first.bind({ source: 'amq.topic', destination: x('dx'), key: '#', arguments: {} }) // built-in source
  await first.bind({ source: 'ae', destination: q('dq'), key: '', arguments: {} })
  await first.bind({
    source: 'hx',
    destination: q('dq'),
    key: '',
    arguments: { 'x-match': 'any', n: 5n, b: Buffer.from('z') },
  })
  assert.equal(catalog.count('exchange'), 3)
  assert.equal(catalog.count('binding'), 5)

  const second = await Router.open(catalog, { queueExists: (n) => queues.has(n) })
  assert.equal(second.getExchange('tx'), undefined)
  const dx = second.getExchange('dx')
  assert.ok(dx)
  assert.equal(dx.type, 'topic')
  assert.equal(dx.durable, true)
  assert.equal(dx.alternateExchange, 'ae')
  assert.deepEqual(dx.arguments, { ...args, 'alternate-exchange': 'ae' })
  // Redeclaring with the original arguments is equivalent after the round trip.
  await second.declareExchange({ name: 'dx', type: 'topic', durable: true, alternateExchange: 'ae', arguments: args })
  assert.deepEqual(routed(second, 'dx', 'a.b'), ['queue:dq', 'stream:log'])
  assert.deepEqual(routed(second, 'amq.topic', 'a.c'), ['queue:dq', 'stream:log'])
  assert.deepEqual(routed(second, 'dx', 'zz'), ['queue:dq'], 'alternate exchange restored')
  assert.deepEqual(routed(second, 'hx', '', { n: 5 }), ['queue:dq'], 'headers binding args restored by value')
  assert.deepEqual(routed(second, 'hx', '', { b: Buffer.from('z') }), ['queue:dq'])
  assert.equal(second.listBindings().length, 5)
  assert.ok(second.listBindings().every((b) => b.durable === true))

  // Deletes reach the catalog.
  await second.deleteExchange('dx')
  assert.equal(catalog.count('exchange'), 2)
  assert.equal(catalog.count('binding'), 2, 'ae → dq and hx → dq remain')
  const third = await Router.open(catalog)
  assert.equal(third.getExchange('dx'), undefined)
  assert.equal(third.listBindings().length, 2)
})

test('a failed catalog write leaves memory unchanged', async () => {
  const catalog = new MemoryMetadata()
  const router = await Router.open(catalog)
  catalog.failNext = new Error('injected catalog failure')
  await assert.rejects(router.declareExchange({ name: 'd', type: 'direct', durable: true }), /injected/)
  assert.equal(router.getExchange('d'), undefined)
  await router.declareExchange({ name: 'd', type: 'direct', durable: true })
  catalog.failNext = new Error('injected catalog failure')
  await assert.rejects(router.bind({ source: 'd', destination: q('a'), key: 'k', arguments: {} }), /injected/)
  assert.deepEqual(router.listBindings({ source: 'd' }), [])
  assert.equal(router.route('d', 'k').unroutable, true)
  await router.bind({ source: 'd', destination: q('a'), key: 'k', arguments: {} })
  catalog.failNext = new Error('injected catalog failure')
  await assert.rejects(router.deleteExchange('d'), /injected/)
  assert.equal(router.listBindings({ source: 'd' }).length, 1, 'still routable after the failed delete')
  await router.deleteExchange('d')
  assert.equal(catalog.count('binding'), 0)
  assert.equal(catalog.count('exchange'), 0)
})

test('concurrent identical binds and declares apply once', async () => {
  const catalog = new MemoryMetadata()
  const router = await Router.open(catalog)
  await Promise.all([
    router.declareExchange({ name: 'c', type: 'direct', durable: true }),
    router.declareExchange({ name: 'c', type: 'direct', durable: true }),
  ])
  const binding = { source: 'c', destination: q('a'), key: 'k', arguments: { v: 1 } }
  await Promise.all([router.bind(binding), router.bind({ ...binding, arguments: { v: 1n } }), router.bind(binding)])
  assert.equal(router.listBindings({ source: 'c' }).length, 1)
  assert.equal(catalog.count('binding'), 1)
  assert.equal(catalog.count('exchange'), 1)
  // Mutations are ordered: unbind queued behind bind sees the binding.
  const [, removed] = await Promise.all([
    router.bind({ ...binding, key: 'k2' }),
    router.unbind({ ...binding, key: 'k2' }),
  ])
  assert.equal(removed, true)
  assert.deepEqual(
    router.listBindings({ source: 'c' }).map((b) => b.key),
    ['k'],
  )
})

test('exchange and binding counts are bounded', async () => {
  const router = new Router({ exchangesMax: 2, bindingsMax: 2 })
  await router.declareExchange({ name: 'a', type: 'fanout' })
  await router.declareExchange({ name: 'b', type: 'fanout' })
  await assert.rejects(router.declareExchange({ name: 'c', type: 'fanout' }), (e: unknown) =>
    isWharfError(e, 'LIMIT_EXCEEDED'),
  )
  await router.declareExchange({ name: 'a', type: 'fanout' }) // redeclare is not a new exchange
  await router.bind({ source: 'a', destination: q('1'), key: '', arguments: {} })
  await router.bind({ source: 'a', destination: q('2'), key: '', arguments: {} })
  await router.bind({ source: 'a', destination: q('2'), key: '', arguments: {} }) // existing: no-op
  await assert.rejects(router.bind({ source: 'b', destination: q('3'), key: '', arguments: {} }), (e: unknown) =>
    isWharfError(e, 'LIMIT_EXCEEDED'),
  )
  await router.deleteExchange('a')
  await router.declareExchange({ name: 'c', type: 'fanout' })
  await router.bind({ source: 'b', destination: q('3'), key: '', arguments: {} })
  assert.equal(router.listBindings().length, 1)
})

test('malformed catalog entries fail open with STORE_CORRUPT', async () => {
  const bad = new MemoryMetadata()
  await bad.put('exchange', 'e', { type: 'weird', durable: true, autoDelete: false, internal: false, arguments: {} })
  await assert.rejects(Router.open(bad), (e: unknown) => isWharfError(e, 'STORE_CORRUPT'))
  const badArgs = new MemoryMetadata()
  await badArgs.put('exchange', 'e', {
    type: 'direct',
    durable: true,
    autoDelete: false,
    internal: false,
    arguments: { a: { x: 1 } },
  })
  await assert.rejects(Router.open(badArgs), (e: unknown) => isWharfError(e, 'STORE_CORRUPT'))
})
