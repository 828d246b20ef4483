// The catalog change announcement's payload (catalog-notify.ts): names only, under PostgreSQL's 8000-byte cap,
// falling back to the whole kind or the whole catalog when a name cannot be carried exactly.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeChange, encodeChange, NOTIFY_PAYLOAD_BYTES_MAX } from '../../../src/storage/postgres/catalog-notify.ts'

test('a document is announced as kind/name and decoded back, slashes in the name included', () => {
  for (const [kind, name] of [
    ['stream', 'orders'],
    ['binding', '["amq.topic","queue:a/b","x.y",{}]'],
    ['user', ''],
    ['queue', 'é/ü/日本'],
  ] as const) {
    const payload = encodeChange(kind, name)
    assert.equal(payload, `${kind}/${name}`)
    assert.deepEqual(decodeChange(payload), { kind, name })
  }
})

test('a name too long for a payload announces its whole kind', () => {
  const name = 'x'.repeat(NOTIFY_PAYLOAD_BYTES_MAX)
  assert.equal(encodeChange('binding', name), 'binding')
  assert.deepEqual(decodeChange('binding'), { kind: 'binding' })
  // Multi-byte characters count in bytes, not in characters.
  const wide = 'é'.repeat(NOTIFY_PAYLOAD_BYTES_MAX / 2)
  assert.equal(encodeChange('queue', wide), 'queue')
  const fits = 'é'.repeat(NOTIFY_PAYLOAD_BYTES_MAX / 2 - 10)
  assert.equal(encodeChange('queue', fits), `queue/${fits}`)
  assert.ok(Buffer.byteLength(encodeChange('queue', fits)) <= NOTIFY_PAYLOAD_BYTES_MAX)
})

test('a name PostgreSQL text cannot hold (NUL, a lone surrogate) announces its whole kind', () => {
  assert.equal(encodeChange('g', 'a\u0000b'), 'g')
  assert.equal(encodeChange('g', 'a\ud800b'), 'g')
})

test('a kind that cannot be named announces the whole catalog', () => {
  assert.equal(encodeChange('a/b', 'x'), '')
  assert.equal(encodeChange('', 'x'), '')
  assert.equal(encodeChange('k\u0000', 'x'), '')
  assert.deepEqual(decodeChange(''), {})
})

test('every payload stays under the cap', () => {
  for (const kind of ['k', 'k'.repeat(NOTIFY_PAYLOAD_BYTES_MAX), 'k'.repeat(NOTIFY_PAYLOAD_BYTES_MAX + 1)])
    for (const name of ['', 'n'.repeat(NOTIFY_PAYLOAD_BYTES_MAX * 2)])
      assert.ok(Buffer.byteLength(encodeChange(kind, name)) <= NOTIFY_PAYLOAD_BYTES_MAX)
})
