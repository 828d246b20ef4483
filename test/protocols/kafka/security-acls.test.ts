// Authorization with real clients: Kafka's error codes for denied topics and groups, Metadata showing only
// what one may Describe, and kafka-python's KafkaAdminClient managing the rules (Create/Describe/DeleteAcls).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { acl, denyBobWrite } from '../../fixtures/acls.ts'
import { run, silentKafkaLogs, startHarness } from './harness.ts'

const users = [
  { name: 'admin', password: 'admin-pw', tags: ['administrator'] },
  { name: 'alice', password: 'alice-pw' },
  { name: 'bob', password: 'bob-pw' },
]
const denyBobPayments = denyBobWrite('payments')

function kafkajs(bootstrap: string, username: string, password: string, retries = 0): Kafka {
  return new Kafka({
    clientId: `kjs-${username}`,
    brokers: [bootstrap],
    sasl: { mechanism: 'plain', username, password },
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries },
  })
}

function kcatPlain(bootstrap: string, user: string, password: string): string[] {
  const sasl = ['security.protocol=SASL_PLAINTEXT', 'sasl.mechanisms=PLAIN', `sasl.username=${user}`]
  return ['-b', bootstrap, ...sasl.flatMap((x) => ['-X', x]), '-X', `sasl.password=${password}`]
}

test('bob is denied Write on payments: kafkajs and kcat see TOPIC_AUTHORIZATION_FAILED, alice produces', async (t) => {
  const h = await startHarness(t, {}, { users, anonymous: false, acls: [denyBobPayments] })
  await h.broker.createStream('payments', { partitions: 1 })
  const alice = kafkajs(h.bootstrap, 'alice', 'alice-pw').producer()
  await alice.connect()
  h.defer(() => alice.disconnect())
  await alice.send({ topic: 'payments', messages: [{ value: 'from-alice' }] })

  const bob = kafkajs(h.bootstrap, 'bob', 'bob-pw').producer()
  await bob.connect()
  h.defer(() => bob.disconnect())
  const denied = await bob.send({ topic: 'payments', messages: [{ value: 'from-bob' }] }).then(
    () => undefined,
    (error: Error & { type?: string }) => error,
  )
  assert.ok(denied, 'bob must be refused')
  assert.equal(denied.type, 'TOPIC_AUTHORIZATION_FAILED', String(denied))
  const viaKcat = await run(
    'kcat',
    [...kcatPlain(h.bootstrap, 'bob', 'bob-pw'), '-P', '-t', 'payments', '-X', 'message.timeout.ms=5000'],
    { input: 'kcat-bob\n', timeoutMs: 20_000 },
  ).then(
    () => 'delivered',
    (error: Error) => error.message,
  )
  assert.match(viaKcat, /Topic authorization failed/i)
  assert.equal(h.broker.stream('payments').partitionLog(0).highWatermark, 1)
  // bob may still write elsewhere.
  await bob.send({ topic: 'ledger', messages: [{ value: 'ok' }] })
  assert.equal(h.broker.stream('ledger').partitionLog(0).highWatermark, 1)
})

test('default deny: Metadata lists only what alice may Describe; groups and auto-creation are checked', async (t) => {
  const allowAlice = (
    operation: string,
    resourceType: string,
    resourceName: string,
    patternType: 'Literal' | 'Prefixed' = 'Prefixed',
  ) => acl('alice', 'Allow', operation, resourceType, resourceName, patternType)
  const h = await startHarness(
    t,
    {},
    {
      users,
      anonymous: false,
      defaultPermission: 'deny',
      acls: [
        allowAlice('All', 'Topic', 'alice-'),
        allowAlice('Read', 'Group', 'alice-'),
        allowAlice('Describe', 'Group', 'shared-'),
      ],
    },
  )
  await h.broker.createStream('alice-orders', { partitions: 1 })
  await h.broker.createStream('secret', { partitions: 1 })
  const admin = kafkajs(h.bootstrap, 'alice', 'alice-pw').admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  assert.deepEqual((await admin.listTopics()).sort(), ['alice-orders'])
  const listed = await run('kcat', [...kcatPlain(h.bootstrap, 'alice', 'alice-pw'), '-L'])
  assert.match(listed.stdout, /topic "alice-orders"/)
  assert.doesNotMatch(listed.stdout, /secret/)

  // An idempotent producer (InitProducerId) needs IdempotentWrite on the cluster or Write on some topic: alice
  // has the latter; bob, with no rule at all under default deny, has neither.
  const idempotent = ['-P', '-X', 'enable.idempotence=true', '-X', 'message.timeout.ms=5000', '-t', 'alice-orders']
  await run('kcat', [...kcatPlain(h.bootstrap, 'alice', 'alice-pw'), ...idempotent], { input: 'idem\n' })
  assert.equal(h.broker.stream('alice-orders').partitionLog(0).highWatermark, 1)
  const bobProducer = kafkajs(h.bootstrap, 'bob', 'bob-pw', 1).producer({ idempotent: true, maxInFlightRequests: 1 })
  h.defer(() => bobProducer.disconnect())
  const bobIdempotent = await bobProducer
    .connect()
    .then(() => bobProducer.send({ topic: 'alice-orders', messages: [{ value: 'x' }] }))
    .then(
      () => undefined,
      (error: Error & { type?: string }) => error,
    )
  assert.equal(bobIdempotent?.type, 'CLUSTER_AUTHORIZATION_FAILED', String(bobIdempotent))

  // Creating a topic needs Create on it (or on the cluster): alice-* yes, anything else no.
  await admin.createTopics({ topics: [{ topic: 'alice-new' }] })
  const creation = await admin.createTopics({ topics: [{ topic: 'other' }] }).then(
    () => undefined,
    (error: Error & { errors?: Array<{ type?: string }> }) => error.errors?.map((e) => e.type),
  )
  assert.deepEqual(creation, ['TOPIC_AUTHORIZATION_FAILED'])
  assert.equal(h.broker.getStream('other'), undefined)

  // Consumer groups: Describe on the group to find its coordinator, Read to join. alice-g is hers; she may only
  // look at shared-g.
  const consume = async (groupId: string) => {
    const consumer = kafkajs(h.bootstrap, 'alice', 'alice-pw').consumer({ groupId })
    h.defer(() => consumer.disconnect())
    await consumer.connect()
    await consumer.subscribe({ topic: 'alice-orders', fromBeginning: true })
    return new Promise<string>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error))
      consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) }).catch(reject)
    })
  }
  const producer = kafkajs(h.bootstrap, 'alice', 'alice-pw').producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  await producer.send({ topic: 'alice-orders', messages: [{ value: 'first' }] })
  assert.equal(await consume('alice-g'), 'idem')
  const refused = await consume('shared-g').then(
    () => undefined,
    (error: Error & { type?: string }) => error,
  )
  assert.equal(refused?.type, 'GROUP_AUTHORIZATION_FAILED', String(refused))
  // No Describe at all: kafka-python's coordinator lookup fails with the group error (kafkajs hides it).
  const lookup = await run('/usr/bin/python3', ['-c', pythonGroup, String(h.port)], { timeoutMs: 60_000 })
  assert.equal(lookup.stdout.trim().split('\n').at(-1), 'GroupAuthorizationFailedError')
})

const pythonGroup = `
import sys
from kafka import KafkaConsumer
from kafka.errors import KafkaError
try:
    consumer = KafkaConsumer('alice-orders', bootstrap_servers='127.0.0.1:' + sys.argv[1], group_id='someone-else',
                             security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN', sasl_plain_username='alice',
                             sasl_plain_password='alice-pw', consumer_timeout_ms=5000)
    for message in consumer:
        pass
    print('consumed')
except KafkaError as e:
    print(type(e).__name__)
`

const pythonAdmin = `
import sys, json
from kafka.admin import (KafkaAdminClient, ACL, ACLFilter, ResourcePattern, ResourcePatternFilter,
                         ACLOperation, ACLPermissionType, ResourceType, ACLResourcePatternType)
from kafka.errors import KafkaError
port, user, password = sys.argv[1:4]
admin = KafkaAdminClient(bootstrap_servers='127.0.0.1:' + port, security_protocol='SASL_PLAINTEXT',
                         sasl_mechanism='PLAIN', sasl_plain_username=user, sasl_plain_password=password,
                         request_timeout_ms=10000)
def show(acl):
    p = acl.resource_pattern
    return [acl.principal, acl.host, acl.operation.name, acl.permission_type.name,
            p.resource_type.name, p.resource_name, p.pattern_type.name]
everything = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                       resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
out = {}
deny = ACL(principal='User:bob', host='*', operation=ACLOperation.WRITE, permission_type=ACLPermissionType.DENY,
           resource_pattern=ResourcePattern(ResourceType.TOPIC, 'audit', ACLResourcePatternType.LITERAL))
read = ACL(principal='User:bob', host='*', operation=ACLOperation.READ, permission_type=ACLPermissionType.ALLOW,
           resource_pattern=ResourcePattern(ResourceType.GROUP, 'bob-', ACLResourcePatternType.PREFIXED))
try:
    created = admin.create_acls([deny, read])
    out['created'] = len(created['succeeded'])
    out['createFailed'] = [getattr(e, '__name__', type(e).__name__) for _, e in created['failed']]
    acls, error = admin.describe_acls(everything)
    out['described'] = sorted(show(a) for a in acls)
    topic_only = ACLFilter(principal='User:bob', host=None, operation=ACLOperation.ANY,
                           permission_type=ACLPermissionType.ANY,
                           resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, None, ACLResourcePatternType.ANY))
    if sys.argv[4:] == ['delete']:
        deleted = admin.delete_acls([topic_only])
        out['deleted'] = [show(a) for _, matches, _ in deleted for a, _ in matches]
        acls, error = admin.describe_acls(everything)
        out['after'] = sorted(show(a) for a in acls)
except KafkaError as e:
    out['error'] = type(e).__name__
admin.close()
print(json.dumps(out))
`

async function python(port: number, user: string, password: string, ...extra: string[]) {
  const { stdout } = await run('/usr/bin/python3', ['-c', pythonAdmin, String(port), user, password, ...extra], {
    timeoutMs: 60_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
}

test('kafka-python KafkaAdminClient: create_acls, describe_acls, delete_acls; the rules apply; non-admins refused', async (t) => {
  const mqttRule = {
    principal: 'User:*',
    host: '*',
    operation: 'Read',
    permission: 'Deny',
    resourceType: 'MqttTopic',
    resourceName: 'test/nosubscribe',
    patternType: 'Literal',
  }
  const h = await startHarness(t, {}, { users, anonymous: false, defaultPermission: 'allow', acls: [mqttRule] })
  // bob has no rule on the cluster yet: with default allow he could manage rules, so deny him that first.
  await h.broker.security.acls.add([
    {
      principal: 'User:bob',
      host: '*',
      operation: 'Alter',
      permission: 'Deny',
      resourceType: 'Cluster',
      resourceName: 'kafka-cluster',
      patternType: 'Literal',
    },
  ])
  const refused = await python(h.port, 'bob', 'bob-pw')
  assert.deepEqual(refused.createFailed, ['ClusterAuthorizationFailedError', 'ClusterAuthorizationFailedError'])

  const result = await python(h.port, 'admin', 'admin-pw')
  assert.equal(result.created, 2)
  // The MqttTopic rule has no Kafka resource type: DescribeAcls with ANY leaves it out.
  assert.deepEqual(result.described, [
    ['User:bob', '*', 'ALTER', 'DENY', 'CLUSTER', 'kafka-cluster', 'LITERAL'],
    ['User:bob', '*', 'READ', 'ALLOW', 'GROUP', 'bob-', 'PREFIXED'],
    ['User:bob', '*', 'WRITE', 'DENY', 'TOPIC', 'audit', 'LITERAL'],
  ])
  assert.ok(
    h.broker.security.acls.list({ resourceType: 'Topic', resourceName: 'audit' }).some((r) => r.permission === 'Deny'),
  )
  // The rule made through Kafka's API applies at once.
  await h.broker.createStream('audit', { partitions: 1 })
  const bobWrite = await run(
    'kcat',
    [...kcatPlain(h.bootstrap, 'bob', 'bob-pw'), '-P', '-t', 'audit', '-X', 'message.timeout.ms=5000'],
    { input: 'x\n', timeoutMs: 20_000 },
  ).then(
    () => 'delivered',
    (error: Error) => error.message,
  )
  assert.match(bobWrite, /Topic authorization failed/i)

  const deleted = await python(h.port, 'admin', 'admin-pw', 'delete')
  assert.deepEqual(deleted.deleted, [['User:bob', '*', 'WRITE', 'DENY', 'TOPIC', 'audit', 'LITERAL']])
  assert.equal((deleted.after as unknown[]).length, 3 - 1)
  // The MqttTopic rule is still there (DeleteAcls with ANY does not reach Wharf-only resource types).
  assert.equal(h.broker.security.acls.list({ resourceType: 'MqttTopic' }).length, 1)
  await run('kcat', [...kcatPlain(h.bootstrap, 'bob', 'bob-pw'), '-P', '-t', 'audit'], { input: 'now-allowed\n' })
  assert.equal(h.broker.stream('audit').partitionLog(0).highWatermark, 1)
})
