import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Destination, type RouteResult, Router } from '../../../src/broker/routing/router.ts'
import { toAmqpError } from '../../../src/protocols/amqp/errors.ts'
import { isWharfError, type WharfError } from '../../../src/util/errors.ts'

const q = (name: string): Destination => ({ kind: 'queue', name })
const x = (name: string): Destination => ({ kind: 'exchange', name })

function names(result: RouteResult): string[] {
  return result.destinations.map((d) => (d.kind === 'sink' ? `sink:${d.id}` : `${d.kind}:${d.name}`)).sort()
}

function routed(router: Router, exchange: string, key: string, headers?: Record<string, unknown>): string[] {
  return names(router.route(exchange, key, headers))
}

/** The reply text an AMQP client sees for a router error; the router's own message has no AMQP words. */
function amqpText(error: WharfError): string {
  assert.doesNotMatch(error.message, /vhost|[A-Z]+_[A-Z]+ - /)
  return toAmqpError(error, 0, 0).message
}

async function rejectsWith(promise: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isWharfError(error), `expected a WharfError, got ${String(error)}`)
    assert.equal(error.code, code)
    assert.match(amqpText(error), text)
    return true
  })
}

test('predeclared exchanges and the default exchange', () => {
  const queues = new Set(['orders'])
  const router = new Router({ queueExists: (name) => queues.has(name) })
  assert.deepEqual(
    router
      .listExchanges()
      .map((e) => `${e.name}/${e.type}`)
      .sort(),
    [
      '/direct',
      'amq.direct/direct',
      'amq.fanout/fanout',
      'amq.headers/headers',
      'amq.match/headers',
      'amq.topic/topic',
    ],
  )
  assert.deepEqual(routed(router, '', 'orders'), ['queue:orders'])
  const miss = router.route('', 'nope')
  assert.deepEqual(miss.destinations, [])
  assert.equal(miss.unroutable, true)
  assert.equal(router.route('', 'orders').unroutable, false)
})

test('direct exchange routes exact keys; a queue bound twice gets one copy', async () => {
  const router = new Router()
  await router.declareExchange({ name: 'd', type: 'direct' })
  await router.bind({ source: 'd', destination: q('a'), key: 'k1', arguments: {} })
  await router.bind({ source: 'd', destination: q('a'), key: 'k2', arguments: {} })
  await router.bind({ source: 'd', destination: q('b'), key: 'k1', arguments: {} })
  await router.bind({ source: 'd', destination: { kind: 'stream', name: 's' }, key: 'k2', arguments: {} })
  assert.deepEqual(routed(router, 'd', 'k1'), ['queue:a', 'queue:b'])
  assert.deepEqual(routed(router, 'd', 'k2'), ['queue:a', 'stream:s'])
  assert.deepEqual(routed(router, 'd', 'k3'), [])
  assert.deepEqual(routed(router, 'd', 'K1'), [], 'keys are case sensitive')
  // Two bindings that differ only by arguments the direct type ignores: removing one keeps the route.
  await router.bind({ source: 'd', destination: q('c'), key: 'k', arguments: { v: 1 } })
  await router.bind({ source: 'd', destination: q('c'), key: 'k', arguments: { v: 2 } })
  assert.equal(router.listBindings({ source: 'd', destination: q('c') }).length, 2)
  assert.equal(await router.unbind({ source: 'd', destination: q('c'), key: 'k', arguments: { v: 1 } }), true)
  assert.deepEqual(routed(router, 'd', 'k'), ['queue:c'])
  assert.equal(await router.unbind({ source: 'd', destination: q('c'), key: 'k', arguments: { v: 2 } }), true)
  assert.deepEqual(routed(router, 'd', 'k'), [])
  assert.equal(await router.unbind({ source: 'd', destination: q('c'), key: 'k', arguments: { v: 2 } }), false)
})

test('fanout exchange ignores the key', async () => {
  const router = new Router()
  await router.declareExchange({ name: 'f', type: 'fanout' })
  assert.equal(router.route('f', 'x').unroutable, true)
  await router.bind({ source: 'f', destination: q('a'), key: '', arguments: {} })
  await router.bind({ source: 'f', destination: q('a'), key: 'other', arguments: {} })
  await router.bind({ source: 'f', destination: { kind: 'sink', id: 's1' }, key: '', arguments: {} })
  assert.deepEqual(routed(router, 'f', 'anything'), ['queue:a', 'sink:s1'])
  await router.unbind({ source: 'f', destination: q('a'), key: '', arguments: {} })
  assert.deepEqual(routed(router, 'f', 'anything'), ['queue:a', 'sink:s1'], 'still bound by the other key')
  await router.unbind({ source: 'f', destination: q('a'), key: 'other', arguments: {} })
  assert.deepEqual(routed(router, 'f', ''), ['sink:s1'])
})

test('topic exchange: * is one word, # zero or more', async () => {
  const router = new Router()
  await router.declareExchange({ name: 't', type: 'topic' })
  await router.bind({ source: 't', destination: q('star'), key: 'a.*.c', arguments: {} })
  await router.bind({ source: 't', destination: q('hash'), key: 'a.#', arguments: {} })
  await router.bind({ source: 't', destination: q('all'), key: '#', arguments: {} })
  await router.bind({ source: 't', destination: q('exact'), key: 'a.b', arguments: {} })
  assert.deepEqual(routed(router, 't', 'a.b.c'), ['queue:all', 'queue:hash', 'queue:star'])
  assert.deepEqual(routed(router, 't', 'a'), ['queue:all', 'queue:hash'])
  assert.deepEqual(routed(router, 't', 'a.b'), ['queue:all', 'queue:exact', 'queue:hash'])
  assert.deepEqual(routed(router, 't', 'b.b.c'), ['queue:all'])
  assert.deepEqual(routed(router, 't', ''), ['queue:all'])
})

test('headers exchange matches binding arguments against headers', async () => {
  const router = new Router()
  await router.bind({ source: 'amq.headers', destination: q('pdf'), key: '', arguments: { format: 'pdf' } })
  await router.bind({
    source: 'amq.headers',
    destination: q('any'),
    key: '',
    arguments: { 'x-match': 'any', format: 'zip', n: 1 },
  })
  assert.deepEqual(routed(router, 'amq.headers', 'ignored', { format: 'pdf' }), ['queue:pdf'])
  assert.deepEqual(routed(router, 'amq.headers', '', { format: 'x', n: 1n }), ['queue:any'], 'numbers by value')
  assert.deepEqual(routed(router, 'amq.headers', '', { format: 'zip' }), ['queue:any'])
  assert.deepEqual(routed(router, 'amq.headers', '', undefined), [])
  await rejectsWith(
    router.bind({ source: 'amq.match', destination: q('bad'), key: '', arguments: { 'x-match': 'some' } }),
    'PRECONDITION_FAILED',
    /^PRECONDITION_FAILED - Invalid x-match/,
  )
})

test('MQTT filter bindings on amq.topic meet AMQP routing keys', async () => {
  const router = new Router()
  const sink = (id: string): Destination => ({ kind: 'sink', id })
  await router.bind({ source: 'amq.topic', destination: sink('plus'), key: 'a/+/c', arguments: {}, syntax: 'mqtt' })
  await router.bind({ source: 'amq.topic', destination: sink('all'), key: '#', arguments: {}, syntax: 'mqtt' })
  await router.bind({ source: 'amq.topic', destination: sink('sys'), key: '$SYS/#', arguments: {}, syntax: 'mqtt' })
  await router.bind({ source: 'amq.topic', destination: sink('parent'), key: 'a/b/#', arguments: {}, syntax: 'mqtt' })
  // An AMQP topic binding on the same exchange, matched by what MQTT publishers send as a/b/c.
  await router.bind({ source: 'amq.topic', destination: q('amqp'), key: 'a.*.c', arguments: {} })
  assert.deepEqual(routed(router, 'amq.topic', 'a.b.c'), ['queue:amqp', 'sink:all', 'sink:parent', 'sink:plus'])
  assert.deepEqual(routed(router, 'amq.topic', 'a.b'), ['sink:all', 'sink:parent'], "'a/b/#' matches its parent")
  assert.deepEqual(routed(router, 'amq.topic', '$SYS.x'), ['sink:sys'], "'#' does not match $ topics")
  // Same filter text with the other syntax is a different binding.
  await router.bind({ source: 'amq.topic', destination: sink('plus'), key: 'a/+/c', arguments: {} })
  assert.equal(router.listBindings({ destination: sink('plus') }).length, 2)
  await router.unbind({ source: 'amq.topic', destination: sink('plus'), key: 'a/+/c', arguments: {}, syntax: 'mqtt' })
  assert.deepEqual(routed(router, 'amq.topic', 'a.x.c'), ['queue:amqp', 'sink:all'])
  await rejectsWith(
    router.bind({ source: 'amq.topic', destination: sink('bad'), key: 'a/#/c', arguments: {}, syntax: 'mqtt' }),
    'INVALID_ARGUMENT',
    /#/,
  )
  await rejectsWith(
    router.bind({ source: 'amq.direct', destination: sink('bad'), key: 'a/b', arguments: {}, syntax: 'mqtt' }),
    'INVALID_ARGUMENT',
    /topic exchange/,
  )
  assert.equal(router.listBindings({ destination: sink('bad') }).length, 0)
})

test('exchange-to-exchange bindings route recursively; cycles terminate', async () => {
  const router = new Router()
  await router.declareExchange({ name: 'e1', type: 'fanout' })
  await router.declareExchange({ name: 'e2', type: 'topic' })
  await router.declareExchange({ name: 'e3', type: 'direct' })
  await router.bind({ source: 'e1', destination: x('e2'), key: '', arguments: {} })
  await router.bind({ source: 'e2', destination: x('e3'), key: 'k.#', arguments: {} })
  await router.bind({ source: 'e3', destination: x('e1'), key: 'k.1', arguments: {} }) // cycle
  await router.bind({ source: 'e2', destination: x('e2'), key: '#', arguments: {} }) // self loop
  await router.bind({ source: 'e1', destination: q('q1'), key: '', arguments: {} })
  await router.bind({ source: 'e3', destination: q('q1'), key: 'k.1', arguments: {} })
  await router.bind({ source: 'e3', destination: q('q3'), key: 'k.1', arguments: {} })
  assert.deepEqual(routed(router, 'e1', 'k.1'), ['queue:q1', 'queue:q3'])
  assert.deepEqual(routed(router, 'e3', 'k.1'), ['queue:q1', 'queue:q3'])
  assert.deepEqual(routed(router, 'e2', 'k.1'), ['queue:q1', 'queue:q3'], 'e2 → e3 → e1 → e2 (seen)')
  assert.equal(router.route('e2', 'k.2').unroutable, true, 'e2 → e3 (no match) and e2 → e2 (seen)')
  await rejectsWith(
    router.bind({ source: 'e1', destination: x('missing'), key: '', arguments: {} }),
    'EXCHANGE_NOT_FOUND',
    /^NOT_FOUND - no exchange 'missing' in vhost '\/'$/,
  )
})

test('alternate exchanges, chained and cyclic; unroutable flag', async () => {
  const router = new Router()
  await router.declareExchange({ name: 'ae2', type: 'fanout' })
  await router.declareExchange({ name: 'ae1', type: 'direct', alternateExchange: 'ae2' })
  await router.declareExchange({ name: 'main', type: 'direct', arguments: { 'alternate-exchange': 'ae1' } })
  assert.equal(router.getExchange('main')?.alternateExchange, 'ae1')
  await router.bind({ source: 'main', destination: q('hit'), key: 'k', arguments: {} })
  await router.bind({ source: 'ae1', destination: q('ae1q'), key: 'k2', arguments: {} })
  assert.deepEqual(routed(router, 'main', 'k'), ['queue:hit'], 'matched: no alternate')
  assert.deepEqual(routed(router, 'main', 'k2'), ['queue:ae1q'])
  const none = router.route('main', 'zzz')
  assert.equal(none.unroutable, true, 'ae1 matches nothing and ae2 has no bindings')
  await router.bind({ source: 'ae2', destination: q('last'), key: '', arguments: {} })
  assert.deepEqual(routed(router, 'main', 'zzz'), ['queue:last'])
  // An alternate pointing back at the chain start must not loop.
  await router.declareExchange({ name: 'loopA', type: 'direct', alternateExchange: 'loopB' })
  await router.declareExchange({ name: 'loopB', type: 'direct', alternateExchange: 'loopA' })
  assert.equal(router.route('loopA', 'k').unroutable, true)
  // A missing alternate is dropped silently; the default exchange as alternate routes by queue name.
  await router.declareExchange({ name: 'dangling', type: 'fanout', alternateExchange: 'nowhere' })
  assert.equal(router.route('dangling', 'k').unroutable, true)
  const router2 = new Router({ queueExists: (n) => n === 'byname' })
  await router2.declareExchange({ name: 'm', type: 'topic', alternateExchange: '' })
  await router2.bind({ source: 'm', destination: q('other'), key: 'x', arguments: {} })
  assert.deepEqual(routed(router2, 'm', 'byname'), ['queue:byname'])
  assert.deepEqual(routed(router2, 'm', 'x'), ['queue:other'])
})

test('internal exchanges refuse direct publishes but route through bindings', async () => {
  const router = new Router()
  await router.declareExchange({ name: 'inner', type: 'fanout', internal: true })
  await router.declareExchange({ name: 'outer', type: 'fanout' })
  await router.bind({ source: 'outer', destination: x('inner'), key: '', arguments: {} })
  await router.bind({ source: 'inner', destination: q('q'), key: '', arguments: {} })
  assert.throws(
    () => router.route('inner', 'k'),
    (e: unknown) =>
      isWharfError(e, 'ACCESS_REFUSED') &&
      amqpText(e) === "ACCESS_REFUSED - cannot publish to internal exchange 'inner' in vhost '/'",
  )
  assert.deepEqual(routed(router, 'outer', 'k'), ['queue:q'])
  assert.throws(
    () => router.route('ghost', 'k'),
    (e: unknown) =>
      isWharfError(e, 'EXCHANGE_NOT_FOUND') && amqpText(e) === "NOT_FOUND - no exchange 'ghost' in vhost '/'",
  )
})

test('route reuses the out object and its array', async () => {
  const router = new Router()
  await router.bind({ source: 'amq.fanout', destination: q('a'), key: '', arguments: {} })
  const out: RouteResult = { destinations: [], unroutable: true }
  const array = out.destinations
  assert.equal(router.route('amq.fanout', 'k', undefined, out), out)
  assert.equal(out.destinations, array)
  assert.deepEqual(names(out), ['queue:a'])
  assert.equal(out.unroutable, false)
  const first = out.destinations[0]
  router.route('amq.fanout', 'k', undefined, out)
  assert.equal(out.destinations.length, 1, 'cleared before reuse')
  assert.equal(out.destinations[0], first, 'destination objects are interned')
  await router.unbind({ source: 'amq.fanout', destination: q('a'), key: '', arguments: {} })
  router.route('amq.fanout', 'k', undefined, out)
  assert.equal(out.unroutable, true)
  assert.equal(out.destinations.length, 0)
})

test('redeclare: idempotent when equal by value, 406 otherwise', async () => {
  const router = new Router()
  const def = await router.declareExchange({ name: 'e', type: 'direct', durable: true, arguments: { 'x-x': 1 } })
  assert.equal(
    await router.declareExchange({ name: 'e', type: 'direct', durable: true, arguments: { 'x-x': 1n } }),
    def,
  )
  assert.equal(
    await router.declareExchange({ name: 'e', type: 'direct', durable: true, arguments: { 'x-x': 1.0 } }),
    def,
  )
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'fanout', durable: true, arguments: { 'x-x': 1 } }),
    'PRECONDITION_FAILED',
    /^PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'e' in vhost '\/': received 'fanout' but current is 'direct'$/,
  )
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'direct', durable: false, arguments: { 'x-x': 1 } }),
    'PRECONDITION_FAILED',
    /inequivalent arg 'durable' .* received 'false' but current is 'true'/,
  )
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'direct', durable: true, autoDelete: true, arguments: { 'x-x': 1 } }),
    'PRECONDITION_FAILED',
    /inequivalent arg 'auto_delete'/,
  )
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'direct', durable: true, internal: true, arguments: { 'x-x': 1 } }),
    'PRECONDITION_FAILED',
    /inequivalent arg 'internal'/,
  )
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'direct', durable: true, arguments: { 'x-x': 2 } }),
    'PRECONDITION_FAILED',
    /inequivalent arg 'x-x' .* received the value '2' .* current is the value '1'/,
  )
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'direct', durable: true, arguments: { 'x-x': '1' } }),
    'PRECONDITION_FAILED',
    /inequivalent arg 'x-x'/,
  )
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'direct', durable: true }),
    'PRECONDITION_FAILED',
    /inequivalent arg 'x-x' .* received none/,
  )
  // Predeclared exchanges may be redeclared equivalently, never differently.
  await router.declareExchange({ name: 'amq.topic', type: 'topic', durable: true })
  await rejectsWith(router.declareExchange({ name: 'amq.topic', type: 'topic' }), 'PRECONDITION_FAILED', /durable/)
  await rejectsWith(
    router.declareExchange({ name: 'e', type: 'x-delayed' }),
    'INVALID_ARGUMENT',
    /unknown exchange type/,
  )
})

test('passive declare, reserved names and the default exchange', async () => {
  const router = new Router()
  await rejectsWith(
    router.declareExchange({ name: 'nope', type: 'direct' }, { passive: true }),
    'EXCHANGE_NOT_FOUND',
    /^NOT_FOUND - no exchange 'nope' in vhost '\/'$/,
  )
  await router.declareExchange({ name: 'here', type: 'topic' })
  // Passive ignores the other fields.
  assert.equal((await router.declareExchange({ name: 'here', type: 'fanout' }, { passive: true })).type, 'topic')
  await rejectsWith(
    router.declareExchange({ name: 'amq.custom', type: 'direct' }),
    'ACCESS_REFUSED',
    /^ACCESS_REFUSED - exchange name 'amq.custom' contains reserved prefix 'amq.\*'$/,
  )
  assert.equal(router.getExchange('amq.custom'), undefined)
  await rejectsWith(
    router.declareExchange({ name: '', type: 'direct' }),
    'ACCESS_REFUSED',
    /^ACCESS_REFUSED - .*default/,
  )
  await rejectsWith(router.deleteExchange(''), 'ACCESS_REFUSED', /^ACCESS_REFUSED/)
  await rejectsWith(router.deleteExchange('amq.direct'), 'ACCESS_REFUSED', /^ACCESS_REFUSED - deletion of system/)
  await rejectsWith(
    router.bind({ source: '', destination: q('a'), key: 'a', arguments: {} }),
    'ACCESS_REFUSED',
    /default/,
  )
  await rejectsWith(
    router.bind({ source: 'here', destination: x(''), key: 'a', arguments: {} }),
    'ACCESS_REFUSED',
    /default/,
  )
  await rejectsWith(
    router.unbind({ source: '', destination: q('a'), key: 'a', arguments: {} }),
    'ACCESS_REFUSED',
    /default/,
  )
  await rejectsWith(
    router.bind({ source: 'missing', destination: q('a'), key: 'a', arguments: {} }),
    'EXCHANGE_NOT_FOUND',
    /no exchange 'missing'/,
  )
  assert.ok(router.getExchange('amq.direct'))
})
