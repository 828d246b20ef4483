// The REST admin API, schema registry and /metrics behind HTTP Basic and bearer tokens, over real HTTP (fetch)
// against an in-process listener with anonymous access off: 401/403 by credentials and tag, API tokens, and
// the zero-config anonymous default.
import assert from 'node:assert/strict'
import { networkInterfaces } from 'node:os'
import { test } from 'node:test'
import { startHarness } from '../helpers.ts'
import { as, basic, call, startSecureHarness } from './security-harness.ts'

test('no or wrong credentials: 401 with a Basic challenge in the API error shape; right ones pass', async (t) => {
  const { url, logs } = await startSecureHarness(t)
  const none = await call(url, 'GET', '/api/v1/streams')
  assert.equal(none.status, 401)
  assert.equal(none.headers.get('www-authenticate'), 'Basic realm="wharf"')
  assert.equal(none.json.error.code, 'UNAUTHORIZED')

  const wrong = await call(url, 'GET', '/api/v1/streams', { auth: basic('alice', 'not-her-password') })
  assert.equal(wrong.status, 401)
  assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="wharf"')
  const unknown = await call(url, 'GET', '/api/v1/streams', { auth: basic('nobody', 'x') })
  assert.equal(unknown.status, 401)
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: 'Bearer wharf_nope' })).status, 401)
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: 'Digest username="alice"' })).status, 401)

  const right = await call(url, 'GET', '/api/v1/streams', { auth: as('alice') })
  assert.equal(right.status, 200)
  assert.equal(right.json.total, 0)

  // The dashboard's own requests get a challenge the browser does not answer with its Basic prompt.
  const fromDashboard = await call(url, 'GET', '/api/v1/streams', { headers: { 'x-requested-with': 'fetch' } })
  assert.equal(fromDashboard.status, 401)
  assert.equal(fromDashboard.headers.get('www-authenticate'), 'Session realm="wharf"')

  // Failures are logged with the peer and the user, never the password.
  const refused = logs.filter((l) => l.includes('login refused'))
  assert.ok(refused.some((l) => l.includes('"user":"alice"') && l.includes('127.0.0.1')))
  assert.ok(!logs.some((l) => l.includes('not-her-password')))
})

test('tags decide: monitoring reads, management changes topology, no tag gets 403, administrators manage users', async (t) => {
  const { url } = await startSecureHarness(t)
  // monitoring: GET only
  assert.equal((await call(url, 'GET', '/api/v1/overview', { auth: as('molly') })).status, 200)
  const denied = await call(url, 'POST', '/api/v1/streams', { auth: as('molly'), body: { name: 'orders' } })
  assert.equal(denied.status, 403)
  assert.equal(denied.json.error.code, 'ACCESS_REFUSED')
  assert.match(denied.json.error.message, /User:molly .*management/)
  // management: topology and messages, not users or ACLs
  assert.equal((await call(url, 'POST', '/api/v1/streams', { auth: as('mia'), body: { name: 'orders' } })).status, 201)
  const produced = await call(url, 'POST', '/api/v1/streams/orders/messages', {
    auth: as('mia'),
    body: { encoding: 'text', messages: [{ value: 'one' }] },
  })
  assert.equal(produced.status, 200)
  assert.equal((await call(url, 'POST', '/api/v1/queues', { auth: as('mia'), body: { name: 'jobs' } })).status, 201)
  assert.equal((await call(url, 'POST', '/api/v1/queues/jobs/purge', { auth: as('mia') })).status, 200)
  assert.equal((await call(url, 'GET', '/api/v1/users', { auth: as('mia') })).status, 403)
  assert.equal((await call(url, 'GET', '/api/v1/acls', { auth: as('mia') })).status, 403)
  // The router decodes %-escapes: an encoded path is still the users route and still refused.
  assert.equal((await call(url, 'GET', '/api/v1/%75sers', { auth: as('mia') })).status, 403)
  assert.equal((await call(url, 'DELETE', '/api/v1/connections/x', { auth: as('mia') })).status, 403)
  // no tag: nothing
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: as('bob') })).status, 403)
  // administrator: everything
  assert.equal((await call(url, 'GET', '/api/v1/users', { auth: as('alice') })).status, 200)
  assert.equal((await call(url, 'DELETE', '/api/v1/streams/orders', { auth: as('alice') })).status, 200)
})

test('users: create, list, change password and tags, delete; no secret is ever returned', async (t) => {
  const { url, broker } = await startSecureHarness(t)
  const admin = as('alice')
  const created = await call(url, 'POST', '/api/v1/users', {
    auth: admin,
    body: {
      name: 'carol',
      password: 'carol-secret-1',
      tags: ['monitoring'],
      accessKeys: [{ id: 'AKIDCAROL', secret: 'carol-aws-secret' }],
    },
  })
  assert.equal(created.status, 201)
  assert.deepEqual(created.json.tags, ['monitoring'])
  assert.deepEqual(created.json.accessKeyIds, ['AKIDCAROL'])
  assert.equal((await call(url, 'POST', '/api/v1/users', { auth: admin, body: { name: 'carol' } })).status, 409)
  const badTag = await call(url, 'POST', '/api/v1/users', { auth: admin, body: { name: 'dan', tags: ['root'] } })
  assert.equal(badTag.status, 400)

  const list = await call(url, 'GET', '/api/v1/users', { auth: admin })
  assert.deepEqual(
    list.json.items.map((u: { name: string }) => u.name),
    ['alice', 'bob', 'carol', 'mia', 'molly'],
  )
  const one = await call(url, 'GET', '/api/v1/users/carol', { auth: admin })
  for (const text of [list.text, one.text, created.text]) {
    assert.doesNotMatch(text, /carol-secret-1|carol-aws-secret|scrypt|storedKey|serverKey|passwordHash/)
  }
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: basic('carol', 'carol-secret-1') })).status, 200)

  const changed = await call(url, 'PUT', '/api/v1/users/carol', {
    auth: admin,
    body: { password: 'carol-secret-2', tags: ['management'] },
  })
  assert.equal(changed.status, 200)
  assert.deepEqual(changed.json.tags, ['management'])
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: basic('carol', 'carol-secret-1') })).status, 401)
  const newPassword = basic('carol', 'carol-secret-2')
  assert.equal(
    (await call(url, 'POST', '/api/v1/streams', { auth: newPassword, body: { name: 'carols' } })).status,
    201,
  )
  assert.equal((await call(url, 'PUT', '/api/v1/users/carol', { auth: admin, body: { passwd: 'x' } })).status, 400)

  assert.equal((await call(url, 'DELETE', '/api/v1/users/carol', { auth: admin })).status, 200)
  assert.equal(broker.security.users.get('carol'), undefined)
  assert.equal((await call(url, 'DELETE', '/api/v1/users/carol', { auth: admin })).status, 404)
  assert.equal((await call(url, 'GET', '/api/v1/users/carol', { auth: admin })).status, 404)
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: newPassword })).status, 401)
})

test('API tokens: own tokens for tagged users, bearer auth, shown once, revocable, gone with their user', async (t) => {
  const { url, broker } = await startSecureHarness(t)
  const made = await call(url, 'POST', '/api/v1/users/mia/tokens', { auth: as('mia'), body: { name: 'ci' } })
  assert.equal(made.status, 201)
  assert.match(made.json.token, /^wharf_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/)
  assert.equal(made.headers.get('cache-control'), 'no-store')
  const bearer = `Bearer ${made.json.token}`
  assert.equal((await call(url, 'POST', '/api/v1/streams', { auth: bearer, body: { name: 'via-token' } })).status, 201)
  // The token acts as its user: management, so not users.
  assert.equal((await call(url, 'GET', '/api/v1/users', { auth: bearer })).status, 403)
  const tampered = `${made.json.token.slice(0, -1)}${made.json.token.endsWith('A') ? 'B' : 'A'}`
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: `Bearer ${tampered}` })).status, 401)

  const listed = await call(url, 'GET', '/api/v1/users/mia/tokens', { auth: as('mia') })
  assert.equal(listed.json.total, 1)
  assert.equal(listed.json.items[0].name, 'ci')
  // The secret is everything after `wharf_<16 hex>_`; it is base64url, so it may itself contain '_'.
  const secret = made.json.token.slice('wharf_'.length + 17)
  assert.equal(secret.length, 43)
  assert.ok(!listed.text.includes(secret), 'the secret is never listed')
  // Someone else's tokens need an administrator; an untagged user has none of their own.
  assert.equal((await call(url, 'GET', '/api/v1/users/alice/tokens', { auth: as('mia') })).status, 403)
  assert.equal(
    (await call(url, 'POST', '/api/v1/users/alice/tokens', { auth: as('molly'), body: { name: 'x' } })).status,
    403,
  )
  assert.equal(
    (await call(url, 'POST', '/api/v1/users/bob/tokens', { auth: as('bob'), body: { name: 'x' } })).status,
    403,
  )
  assert.equal((await call(url, 'GET', '/api/v1/users/mia/tokens', { auth: as('alice') })).json.total, 1)

  const id = made.json.id as string
  assert.equal((await call(url, 'DELETE', `/api/v1/users/molly/tokens/${id}`, { auth: as('alice') })).status, 404)
  assert.equal((await call(url, 'DELETE', `/api/v1/users/mia/tokens/${id}`, { auth: as('mia') })).status, 200)
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: bearer })).status, 401)

  const second = await call(url, 'POST', '/api/v1/users/molly/tokens', { auth: as('alice'), body: { name: 'grafana' } })
  assert.equal(second.status, 201)
  assert.equal((await call(url, 'GET', '/api/v1/overview', { auth: `Bearer ${second.json.token}` })).status, 200)
  assert.equal((await call(url, 'DELETE', '/api/v1/users/molly', { auth: as('alice') })).json.tokens, 1)
  assert.equal(broker.security.tokens.list().length, 0)
  assert.equal((await call(url, 'GET', '/api/v1/overview', { auth: `Bearer ${second.json.token}` })).status, 401)
})

test('ACL rules: CRUD by administrators, and they bind non-administrators on per-resource routes', async (t) => {
  const { url } = await startSecureHarness(t)
  const admin = as('alice')
  for (const name of ['payments', 'audit'])
    assert.equal((await call(url, 'POST', '/api/v1/streams', { auth: admin, body: { name } })).status, 201)
  assert.equal((await call(url, 'POST', '/api/v1/queues', { auth: admin, body: { name: 'work' } })).status, 201)
  const rules = [
    { principal: 'User:mia', operation: 'Write', permission: 'Deny', resourceType: 'Topic', resourceName: 'payments' },
    { principal: 'User:mia', operation: 'Delete', permission: 'Deny', resourceType: 'Topic', resourceName: 'work' },
    {
      principal: 'User:mia',
      operation: 'Read',
      permission: 'Deny',
      resourceType: 'Topic',
      resourceName: 'aud',
      patternType: 'Prefixed',
    },
  ]
  const added = await call(url, 'POST', '/api/v1/acls', { auth: admin, body: { acls: rules } })
  assert.equal(added.status, 201)
  assert.equal(added.json.added, 3)
  assert.equal((await call(url, 'POST', '/api/v1/acls', { auth: admin, body: rules[0] })).json.added, 0)
  const invalid = await call(url, 'POST', '/api/v1/acls', { auth: admin, body: { ...rules[0], operation: 'Fly' } })
  assert.equal(invalid.status, 400)
  assert.equal((await call(url, 'POST', '/api/v1/acls', { auth: as('mia'), body: rules[0] })).status, 403)

  const listed = await call(url, 'GET', '/api/v1/acls?principal=User:mia&resourceType=topic', { auth: admin })
  assert.equal(listed.json.total, 3)
  const matching = await call(url, 'GET', '/api/v1/acls?resourceType=Topic&resourceName=audit-2024&patternType=Match', {
    auth: admin,
  })
  assert.deepEqual(
    matching.json.items.map((r: { resourceName: string }) => r.resourceName),
    ['aud'],
  )

  const mia = as('mia')
  const write = (stream: string, auth: string) =>
    call(url, 'POST', `/api/v1/streams/${stream}/messages`, { auth, body: { encoding: 'text', value: 'x' } })
  const denied = await write('payments', mia)
  assert.equal(denied.status, 403)
  assert.match(denied.json.error.message, /User:mia is not allowed Write on Topic 'payments'/)
  assert.equal((await write('audit', mia)).status, 200)
  assert.equal((await write('payments', admin)).status, 200, 'administrators are not bound by rules')
  assert.equal((await call(url, 'GET', '/api/v1/streams/audit/messages', { auth: mia })).status, 403)
  assert.equal((await call(url, 'GET', '/api/v1/streams/payments/messages', { auth: mia })).status, 200)
  assert.equal((await call(url, 'POST', '/api/v1/queues/work/purge', { auth: mia })).status, 403)
  assert.equal((await call(url, 'DELETE', '/api/v1/queues/work', { auth: mia })).status, 403)
  assert.equal((await call(url, 'POST', '/api/v1/queues/work/messages', { auth: mia, body: { value: 1 } })).status, 200)

  assert.equal((await call(url, 'DELETE', '/api/v1/acls', { auth: admin })).status, 400, 'a filter is required')
  const removed = await call(url, 'DELETE', '/api/v1/acls?principal=User:mia&resourceName=payments', { auth: admin })
  assert.equal(removed.json.total, 1)
  assert.equal((await write('payments', mia)).status, 200)
  assert.equal((await call(url, 'GET', '/api/v1/acls', { auth: admin })).json.total, 2)
})

test('schema registry: reads need a tag, writes need management, errors in Confluent shape', async (t) => {
  const { url } = await startSecureHarness(t)
  const none = await call(url, 'GET', '/subjects')
  assert.equal(none.status, 401)
  assert.equal(none.json.error_code, 40101)
  assert.equal(none.headers.get('www-authenticate'), 'Basic realm="wharf"')
  assert.equal((await call(url, 'GET', '/subjects', { auth: as('molly') })).status, 200)
  const schema = { schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] }) }
  const denied = await call(url, 'POST', '/subjects/r-value/versions', { auth: as('molly'), body: schema })
  assert.equal(denied.status, 403)
  assert.equal(denied.json.error_code, 40301)
  const ok = await call(url, 'POST', '/subjects/r-value/versions', { auth: as('mia'), body: schema })
  assert.equal(ok.status, 200)
  assert.equal(typeof ok.json.id, 'number')
  assert.equal((await call(url, 'GET', '/subjects', { auth: as('bob') })).status, 403)
})

test('metrics and health: open by default, behind credentials with publicMetrics false', async (t) => {
  const open = await startSecureHarness(t)
  assert.equal((await call(open.url, 'GET', '/metrics')).status, 200)
  assert.equal((await call(open.url, 'GET', '/healthz')).status, 200)
  // SQS/SNS routes are not the admin auth's business (they authenticate by SigV4).
  const sqs = await call(open.url, 'POST', '/', {
    headers: { 'x-amz-target': 'AmazonSQS.ListQueues', 'content-type': 'application/x-amz-json-1.0' },
  })
  assert.notEqual(sqs.status, 401)
  assert.equal(sqs.headers.get('www-authenticate'), null)

  const closed = await startSecureHarness(t, { publicMetrics: false })
  for (const path of ['/metrics', '/healthz', '/readyz']) {
    const res = await call(closed.url, 'GET', path)
    assert.equal(res.status, 401, path)
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="wharf"')
  }
  const scraped = await call(closed.url, 'GET', '/metrics', { auth: as('molly') })
  assert.equal(scraped.status, 200)
  assert.match(scraped.text, /wharf_http_requests_total/)
  assert.equal((await call(closed.url, 'GET', '/metrics', { auth: as('bob') })).status, 403)
})

test('writes from another origin are refused whatever the credentials', async (t) => {
  const { url } = await startSecureHarness(t)
  const body = { name: 'csrf' }
  const evil = await call(url, 'POST', '/api/v1/streams', {
    auth: as('alice'),
    body,
    headers: { origin: 'http://evil.example' },
  })
  assert.equal(evil.status, 403)
  const sameSite = await call(url, 'POST', '/api/v1/streams', {
    auth: as('alice'),
    body,
    headers: { 'sec-fetch-site': 'same-site' },
  })
  assert.equal(sameSite.status, 403)
  const own = await call(url, 'POST', '/api/v1/streams', { auth: as('alice'), body, headers: { origin: url } })
  assert.equal(own.status, 201)
  // Reads are not refused (a cross-origin page cannot read the reply anyway).
  assert.equal(
    (await call(url, 'GET', '/api/v1/streams', { auth: as('alice'), headers: { origin: 'http://x' } })).status,
    200,
  )
})

test('anonymous default (loopback, no users configured): everything works without credentials, as before', async (t) => {
  const { url } = await startHarness(t)
  assert.equal((await call(url, 'POST', '/api/v1/streams', { body: { name: 'free' } })).status, 201)
  const who = await call(url, 'GET', '/api/v1/session')
  assert.equal(who.json.user, 'ANONYMOUS')
  assert.equal(who.json.anonymous, true)
  assert.equal(who.json.rights.administer, true)
  // From loopback, anonymous manages users too (so `wharf users add` works zero-config).
  const created = await call(url, 'POST', '/api/v1/users', {
    body: { name: 'first', password: 'first-pw', tags: ['administrator'] },
  })
  assert.equal(created.status, 201)
  // Presented credentials are checked even when anonymous is allowed.
  assert.equal((await call(url, 'GET', '/api/v1/streams', { auth: basic('first', 'wrong') })).status, 401)
  assert.equal((await call(url, 'GET', '/api/v1/users', { auth: basic('first', 'first-pw') })).status, 200)
})

/** An address of this machine that is not loopback, so a local client is a "remote" peer. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address

test('anonymous off loopback (explicitly enabled): topology yes, users and ACLs no', {
  skip: lanAddress === undefined ? 'no non-loopback IPv4 address' : false,
}, async (t) => {
  const { url } = await startSecureHarness(t, { host: lanAddress!, anonymous: true })
  const who = await call(url, 'GET', '/api/v1/session')
  assert.equal(who.json.user, 'ANONYMOUS')
  assert.deepEqual(who.json.rights, { read: true, manage: true, administer: false })
  assert.equal((await call(url, 'POST', '/api/v1/streams', { body: { name: 'lan' } })).status, 201)
  const users = await call(url, 'POST', '/api/v1/users', { body: { name: 'mallory', password: 'mallory-pw' } })
  assert.equal(users.status, 403)
  assert.equal((await call(url, 'GET', '/api/v1/acls')).status, 403)
  // An administrator's credentials still work from there.
  assert.equal((await call(url, 'GET', '/api/v1/acls', { auth: as('alice') })).status, 200)
})

test('the OpenAPI document lists the identity routes and the credentials it accepts', async (t) => {
  const { url } = await startSecureHarness(t)
  const doc = (await call(url, 'GET', '/api/v1/openapi.json', { auth: as('molly') })).json
  for (const path of [
    '/users',
    '/users/{name}',
    '/users/{name}/tokens',
    '/users/{name}/tokens/{id}',
    '/acls',
    '/session',
  ])
    assert.ok(doc.paths[path], path)
  assert.ok(doc.paths['/users/{name}/tokens'].post.responses['201'])
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['basic', 'bearer', 'session'])
})
