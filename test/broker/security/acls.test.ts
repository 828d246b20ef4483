import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mqttFilterCovers, parseAclBinding } from '../../../src/broker/security/acls.ts'
import type { Principal } from '../../../src/broker/security/authorizer.ts'
import { Security } from '../../../src/broker/security/security.ts'
import { MemoryMetadata } from '../../fixtures/memory-metadata.ts'

const alice: Principal = { name: 'alice', tags: [], mechanism: 'PLAIN' }
const bob: Principal = { name: 'bob', tags: [], mechanism: 'PLAIN' }
const anonymous: Principal = { name: 'ANONYMOUS', tags: [], mechanism: 'anonymous' }

async function withRules(rules: Array<Record<string, unknown>>): Promise<Security> {
  const security = new Security(new MemoryMetadata())
  await security.acls.add(rules.map((r) => parseAclBinding({ host: '*', patternType: 'Literal', ...r })))
  return security
}

test('the config contract example: bob may not write payments, nobody may subscribe to test/nosubscribe', async () => {
  const security = await withRules([
    { principal: 'User:bob', operation: 'Write', permission: 'Deny', resourceType: 'Topic', resourceName: 'payments' },
    {
      principal: 'User:*',
      operation: 'Read',
      permission: 'Deny',
      resourceType: 'MqttTopic',
      resourceName: 'test/nosubscribe',
    },
  ])
  const b = security.access(bob, '127.0.0.1')
  const a = security.access(alice, '127.0.0.1')
  const anon = security.access(anonymous, '127.0.0.1')
  assert.equal(b.allows('Write', 'Topic', 'payments'), false)
  assert.equal(b.allows('Read', 'Topic', 'payments'), true, 'only Write is denied')
  assert.equal(b.allows('Write', 'Topic', 'orders'), true)
  assert.equal(a.allows('Write', 'Topic', 'payments'), true, 'a rule naming bob does not restrict alice')
  for (const access of [a, b, anon]) {
    assert.equal(access.allows('Read', 'MqttTopic', 'test/nosubscribe'), false, 'User:* covers everyone')
    assert.equal(access.allows('Write', 'MqttTopic', 'test/nosubscribe'), true, 'publishing is still allowed')
  }
})

test('deny wins over allow; allow rules make an allow-list for the principal they name', async () => {
  const security = await withRules([
    { principal: 'User:alice', operation: 'Read', permission: 'Allow', resourceType: 'Topic', resourceName: 'logs' },
    {
      principal: 'User:*',
      operation: 'All',
      permission: 'Allow',
      resourceType: 'Topic',
      resourceName: 'open',
      patternType: 'Prefixed',
    },
    { principal: 'User:bob', operation: 'All', permission: 'Deny', resourceType: 'Topic', resourceName: 'open-secret' },
  ])
  const a = security.access(alice, '10.0.0.1')
  assert.equal(a.allows('Read', 'Topic', 'logs'), true)
  assert.equal(a.allows('Describe', 'Topic', 'logs'), true, 'Read implies Describe')
  assert.equal(a.allows('Write', 'Topic', 'logs'), false, 'alice is named on logs: only Read')
  assert.equal(a.allows('Write', 'Topic', 'other'), true, 'elsewhere the default applies')
  const b = security.access(bob, '10.0.0.2')
  assert.equal(b.allows('Write', 'Topic', 'logs'), true, 'bob is not named on logs')
  assert.equal(b.allows('Write', 'Topic', 'open-data'), true, 'prefixed allow for everyone')
  assert.equal(b.allows('Read', 'Topic', 'open-secret'), false, 'deny All beats the prefixed allow')
})

test('defaultPermission deny: only what a rule allows; administrators bypass rules', async () => {
  const security = await withRules([
    { principal: 'User:bob', operation: 'Write', permission: 'Allow', resourceType: 'Exchange', resourceName: '*' },
    {
      principal: 'User:bob',
      operation: 'Read',
      permission: 'Allow',
      resourceType: 'Group',
      resourceName: 'g',
      host: '10.0.0.9',
    },
  ])
  security.configure({ defaultPermission: 'deny' })
  const b = security.access(bob, '10.0.0.2')
  assert.equal(b.allows('Write', 'Exchange', 'amq.topic'), true, 'literal * covers every name')
  assert.equal(b.allows('Read', 'Topic', 'q'), false)
  assert.equal(b.allows('Read', 'Group', 'g'), false, 'the rule is for another host')
  assert.equal(security.access(bob, '::ffff:10.0.0.9').allows('Read', 'Group', 'g'), true, 'IPv4-mapped peers match')
  const admin = security.access({ name: 'root', tags: ['administrator'], mechanism: 'PLAIN' }, '10.0.0.2')
  assert.equal(admin.allows('Delete', 'Topic', 'anything'), true)
  assert.equal(security.access(anonymous, '10.0.0.2').allows('Read', 'Topic', 'q'), false)
})

test('cached decisions follow rule and tag changes', async () => {
  const security = await withRules([])
  await security.users.put('bob', { password: 'bob-pw' })
  const b = security.access(bob, '127.0.0.1')
  assert.equal(b.allows('Write', 'Topic', 'payments'), true)
  const [rule] = await security.acls
    .add([
      parseAclBinding({
        principal: 'User:bob',
        operation: 'Write',
        permission: 'Deny',
        resourceType: 'Topic',
        resourceName: 'payments',
      }),
    ])
    .then(() => security.acls.list())
  assert.equal(b.allows('Write', 'Topic', 'payments'), false, 'a new rule applies to an open connection')
  await security.users.put('bob', { tags: ['administrator'] })
  assert.equal(b.allows('Write', 'Topic', 'payments'), true, 'promoted to administrator: rules no longer apply')
  await security.users.put('bob', { tags: [] })
  assert.equal(b.allows('Write', 'Topic', 'payments'), false)
  assert.deepEqual(await security.acls.delete({ principal: 'User:bob' }), [rule])
  assert.equal(b.allows('Write', 'Topic', 'payments'), true)
})

test('ACL filters select rules as Kafka DescribeAcls/DeleteAcls do (Match covers literal, wildcard, prefixed)', async () => {
  const security = await withRules([
    { principal: 'User:a', operation: 'Read', resourceType: 'Topic', resourceName: 'orders' },
    { principal: 'User:a', operation: 'Read', resourceType: 'Topic', resourceName: '*' },
    { principal: 'User:a', operation: 'Read', resourceType: 'Topic', resourceName: 'ord', patternType: 'Prefixed' },
    { principal: 'User:b', operation: 'Write', resourceType: 'Group', resourceName: 'orders' },
  ])
  assert.equal(security.acls.list({ resourceType: 'Topic', resourceName: 'orders', patternType: 'Match' }).length, 3)
  assert.equal(security.acls.list({ resourceType: 'Topic', resourceName: 'orders', patternType: 'Literal' }).length, 1)
  assert.equal(security.acls.list({ principal: 'User:b' }).length, 1)
  assert.equal(await security.acls.add(security.acls.list()), 0, 'adding existing rules changes nothing')
  assert.equal((await security.acls.delete({ resourceType: 'Topic' })).length, 3)
  assert.equal(security.acls.size, 1)
})

test('rule input is validated with messages that name the field', () => {
  assert.throws(
    () => parseAclBinding({ principal: 'bob', operation: 'Read', resourceType: 'Topic', resourceName: 'x' }),
    /principal/,
  )
  assert.throws(
    () => parseAclBinding({ principal: 'User:bob', operation: 'Fly', resourceType: 'Topic', resourceName: 'x' }),
    /operation must be one of/,
  )
  assert.throws(
    () => parseAclBinding({ principal: 'User:bob', operation: 'Read', resourceType: 'Queue', resourceName: 'x' }),
    /resourceType/,
  )
  assert.throws(
    () => parseAclBinding({ principal: 'User:bob', operation: 'Read', resourceType: 'Topic', resourceName: '' }),
    /resourceName/,
  )
  const parsed = parseAclBinding({ principal: 'User:bob', operation: 'read', resourceType: 'topic', resourceName: 'x' })
  assert.deepEqual(
    [parsed.operation, parsed.resourceType, parsed.permission, parsed.host, parsed.patternType],
    ['Read', 'Topic', 'Allow', '*', 'Literal'],
  )
})

test('MQTT rule filters cover topics and narrower filters only', () => {
  assert.equal(mqttFilterCovers('a/+/c', 'a/b/c'), true)
  assert.equal(mqttFilterCovers('a/+/c', 'a/b/d'), false)
  assert.equal(mqttFilterCovers('a/#', 'a'), true)
  assert.equal(mqttFilterCovers('a/#', 'a/b/c'), true)
  assert.equal(mqttFilterCovers('a/#', 'a/+'), true)
  assert.equal(mqttFilterCovers('a/b', 'a/#'), false, 'a rule on a/b does not grant a/#')
  assert.equal(mqttFilterCovers('a/+', 'a/#'), false)
  assert.equal(mqttFilterCovers('#', '$SYS/x'), false, 'wildcards at the first level skip $ topics')
  assert.equal(mqttFilterCovers('+/x', '$SYS/x'), false)
  assert.equal(mqttFilterCovers('a/b', 'a/b/c'), false)
})

test('a policy change applies to cached decisions of open connections', async () => {
  const security = await withRules([])
  const b = security.access(bob, '127.0.0.1')
  assert.equal(b.allows('Read', 'Topic', 'q'), true)
  security.configure({ defaultPermission: 'deny' })
  assert.equal(b.allows('Read', 'Topic', 'q'), false)
  security.configure({ defaultPermission: 'allow' })
  assert.equal(b.allows('Read', 'Topic', 'q'), true)
})
