// Pure logic of AMQP 1.0 addressing: subscription names from Qpid JMS link names and capabilities, filters
// matched by descriptor, reply-to mapping to and from the neutral form.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Composite } from '../../../src/protocols/amqp10/codec/generated/types.ts'
import { AmqpMap, Described, Typed } from '../../../src/protocols/amqp10/codec/values.ts'
import { sourceFilters } from '../../../src/protocols/amqp10/filters.ts'
import { amqpReplyTo, neutralReplyTo } from '../../../src/protocols/amqp10/jms-annotations.ts'
import { storedSubscription, subscriptionOf } from '../../../src/protocols/amqp10/subscriptions.ts'

function source(fields: Partial<Composite & { kind: 'source' }>): Composite & { kind: 'source' } {
  return { kind: 'source', durable: 0, expiryPolicy: 'session-end', timeout: 0, dynamic: false, ...fields }
}

test('subscription names follow Qpid JMS link naming', () => {
  const durable = { durable: 2, expiryPolicy: 'never' }
  const cases: Array<[Partial<Composite & { kind: 'source' }>, string, unknown]> = [
    [{}, 'x', undefined],
    [durable, 'sub', { clientId: 'c', name: 'sub', shared: false, volatile: false }],
    [{ ...durable, capabilities: ['shared'] }, 'sub|2', { clientId: 'c', name: 'sub', shared: true, volatile: false }],
    [
      { ...durable, capabilities: ['shared', 'global'] },
      'sub|global2',
      { clientId: null, name: 'sub', shared: true, volatile: false },
    ],
    [
      { capabilities: ['shared'] },
      'sub|volatile1',
      { clientId: 'c', name: 'sub|volatile', shared: true, volatile: true },
    ],
    [
      { capabilities: ['shared', 'global'] },
      'sub|global-volatile3',
      { clientId: null, name: 'sub|volatile', shared: true, volatile: true },
    ],
  ]
  for (const [fields, link, want] of cases) assert.deepEqual(subscriptionOf(source(fields), link, 'c'), want, link)
  const seen: Array<[string | null, string]> = []
  const lookup = (id: string | null, name: string) => {
    seen.push([id, name])
    return undefined
  }
  storedSubscription(lookup, 'sub', 'c')
  storedSubscription(lookup, 'sub|global', 'c')
  assert.deepEqual(seen, [
    ['c', 'sub'],
    [null, 'sub'],
  ])
})

test('filters are matched by descriptor (numeric or symbolic), not by key', () => {
  const filters = sourceFilters(
    new AmqpMap([
      ['anything', new Described(new Typed('symbol', 'apache.org:selector-filter:string'), "a = 'b'")],
      ['other', new Described(new Typed('ulong', 0x0000468c00000003n), [])],
      ['ignored', new Described(new Typed('symbol', 'apache.org:legacy-amqp-topic-binding:string'), 'x')],
    ]),
  )
  assert.equal(filters.selector?.text, "a = 'b'")
  assert.equal(filters.selector?.entry[0], 'anything')
  assert.equal(filters.noLocal?.[0], 'other')
  assert.deepEqual(sourceFilters(undefined), { selector: undefined, noLocal: undefined })
})

test('reply-to: AMQP 1.0 topics become /topic/X and back; queues stay bare', () => {
  assert.equal(neutralReplyTo('topic://a.b', undefined), '/topic/a.b')
  assert.equal(neutralReplyTo('a.b', 'topic'), '/topic/a.b')
  assert.equal(neutralReplyTo('a.b', 'queue'), 'a.b')
  assert.equal(neutralReplyTo('a.b', undefined), 'a.b')
  assert.deepEqual(amqpReplyTo('/topic/a.b'), { address: 'topic://a.b', type: new Typed('byte', 1) })
  assert.deepEqual(amqpReplyTo('/queue/q'), { address: 'q', type: new Typed('byte', 0) })
  assert.deepEqual(amqpReplyTo('/remote-temp-queue/t1'), { address: 't1', type: new Typed('byte', 2) })
  assert.deepEqual(amqpReplyTo('plain'), { address: 'plain', type: undefined })
})
