// JMS destinations over STOMP with real clients (stompjs over TCP): temporary queues for request/reply
// between two connections (`reply-to:/temp-queue/X` rewritten to `/remote-temp-queue/<name>`), a temporary
// queue deleted with its connection, temporary topics, virtual topics feeding two consumer queues, composite
// destinations, and the ACL checks of the new kinds.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IFrame, IMessage } from '@stomp/stompjs'
import { collector, sendWithReceipt, startWharf, stompjs } from './helpers.ts'

function stompError(client: { onStompError: (frame: IFrame) => void }): Promise<IFrame> {
  return new Promise((resolve) => {
    client.onStompError = resolve
  })
}

test('temp-queue request/reply: the reply-to is rewritten so the server can SEND the reply to it', async (t) => {
  const w = await startWharf(t)
  const requester = await stompjs(t, w)
  const server = await stompjs(t, w)
  const requests = collector()
  server.subscribe('/queue/requests', requests.onMessage)
  const replies = collector()
  requester.subscribe('/temp-queue/replies', replies.onMessage, { receipt: 'sub' })
  await new Promise<void>((resolve) => requester.watchForReceipt('sub', () => resolve()))
  await sendWithReceipt(requester, '/queue/requests', 'what time is it', {
    'reply-to': '/temp-queue/replies',
    'correlation-id': 'c-1',
  })
  const [request] = await requests.next(1)
  const replyTo = request!.headers['reply-to']!
  assert.match(replyTo, /^\/remote-temp-queue\/temp-queue\.stomp-.+\.replies$/)
  await sendWithReceipt(server, replyTo, 'noon', { 'correlation-id': request!.headers['correlation-id']! })
  const [reply] = await replies.next(1)
  assert.equal(reply!.body, 'noon')
  assert.equal(reply!.headers['correlation-id'], 'c-1')
  assert.equal(reply!.headers.destination, '/temp-queue/replies')
  const queue = replyTo.slice('/remote-temp-queue/'.length)
  assert.equal(w.broker.getQueue(queue)?.config.exclusiveOwner !== null, true, 'owned by the requester')
})

test('a temporary queue is deleted when its connection closes; a SEND to it then gets ERROR', async (t) => {
  const w = await startWharf(t)
  const requester = await stompjs(t, w)
  const server = await stompjs(t, w)
  const requests = collector()
  server.subscribe('/queue/requests', requests.onMessage)
  await sendWithReceipt(requester, '/queue/requests', 'ping', { 'reply-to': '/temp-queue/r' })
  const [request] = await requests.next(1)
  const replyTo = request!.headers['reply-to']!
  const queue = replyTo.slice('/remote-temp-queue/'.length)
  assert.ok(w.broker.getQueue(queue), 'the reply-to created the temporary queue')
  await requester.deactivate()
  const deadline = Date.now() + 10_000
  while (w.broker.getQueue(queue) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  assert.equal(w.broker.getQueue(queue), undefined, 'deleted with its connection')
  const error = stompError(server)
  server.publish({ destination: replyTo, body: 'pong', headers: { receipt: 'late' } })
  const frame = await error
  assert.match(frame.headers.message!, /temporary destination .* does not exist/)
})

test('another connection cannot consume a temporary queue; temp-topic delivers to its owner only', async (t) => {
  const w = await startWharf(t)
  const owner = await stompjs(t, w)
  const other = await stompjs(t, w)
  const events = collector()
  owner.subscribe('/temp-topic/events', events.onMessage, { receipt: 'sub' })
  await new Promise<void>((resolve) => owner.watchForReceipt('sub', () => resolve()))
  const requests = collector()
  other.subscribe('/queue/announce', requests.onMessage)
  await sendWithReceipt(owner, '/queue/announce', 'hi', { 'reply-to': '/temp-topic/events' })
  const [announce] = await requests.next(1)
  const topic = announce!.headers['reply-to']!
  assert.match(topic, /^\/remote-temp-topic\//)
  await sendWithReceipt(other, topic, 'event-1')
  const [event] = await events.next(1)
  assert.equal(event!.body, 'event-1')
  assert.equal(event!.headers.destination, '/temp-topic/events')
  const error = stompError(other)
  other.subscribe(topic, () => {})
  assert.match((await error).headers.message!, /only the connection that created/)
})

test('virtual topic: a publish to /topic/VirtualTopic.X feeds every Consumer.<name>.VirtualTopic.X queue', async (t) => {
  const w = await startWharf(t)
  const a1 = await stompjs(t, w)
  const a2 = await stompjs(t, w)
  const b = await stompjs(t, w)
  const groupA = collector()
  const groupB = collector()
  const subscribed = (client: typeof a1, destination: string, on: (m: IMessage) => void) =>
    new Promise<void>((resolve) => {
      const receipt = `s-${Math.random()}`
      client.watchForReceipt(receipt, () => resolve())
      client.subscribe(destination, on, { receipt })
    })
  await subscribed(a1, '/queue/Consumer.A.VirtualTopic.Orders', groupA.onMessage)
  await subscribed(a2, '/queue/Consumer.A.VirtualTopic.Orders', groupA.onMessage)
  await subscribed(b, '/queue/Consumer.B.VirtualTopic.Orders', groupB.onMessage)
  const producer = await stompjs(t, w)
  for (let i = 0; i < 4; i++) await sendWithReceipt(producer, '/topic/VirtualTopic.Orders', `order-${i}`)
  const gotA = await groupA.next(4)
  const gotB = await groupB.next(4)
  assert.deepEqual(gotA.map((m) => m.body).sort(), ['order-0', 'order-1', 'order-2', 'order-3'])
  assert.deepEqual(
    gotB.map((m) => m.body),
    ['order-0', 'order-1', 'order-2', 'order-3'],
  )
  assert.equal(gotA[0]!.headers.destination, '/queue/Consumer.A.VirtualTopic.Orders')
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(groupA.messages.length, 4, 'each message once per consumer group (the queue is shared)')
})

test('composite destination: one SEND to /queue/a,/topic/b reaches the queue and the topic', async (t) => {
  const w = await startWharf(t)
  const consumer = await stompjs(t, w)
  const queue = collector()
  const topic = collector()
  const more = collector()
  consumer.subscribe('/queue/composite-a', queue.onMessage)
  consumer.subscribe('/topic/composite.b', topic.onMessage)
  consumer.subscribe('/queue/composite-c', more.onMessage, { receipt: 'subs' })
  await new Promise<void>((resolve) => consumer.watchForReceipt('subs', () => resolve()))
  const producer = await stompjs(t, w)
  await sendWithReceipt(producer, '/queue/composite-a,/topic/composite.b', 'both')
  await sendWithReceipt(producer, '/queue/composite-a,composite-c', 'two queues')
  assert.deepEqual(
    (await queue.next(2)).map((m) => m.body),
    ['both', 'two queues'],
  )
  const [t1] = await topic.next(1)
  assert.equal(t1!.body, 'both')
  assert.equal(t1!.headers.destination, '/topic/composite.b')
  assert.equal((await more.next(1))[0]!.body, 'two queues')
  const error = stompError(consumer)
  consumer.subscribe('/queue/x,/queue/y', () => {})
  assert.match((await error).headers.message!, /composite destinations are for SEND only/)
})

test('ACL: a virtual topic consumer queue and a durable subscription need Read on amq.topic', async (t) => {
  const deny = {
    principal: 'User:bob',
    host: '*',
    operation: 'Read',
    permission: 'Deny',
    resourceType: 'Exchange',
    resourceName: 'amq.topic',
    patternType: 'Literal',
  }
  const w = await startWharf(t, { anonymous: false, acls: [deny] })
  const bob = await stompjs(t, w, { login: 'bob', passcode: 'bob-pw' })
  const error = stompError(bob)
  bob.subscribe('/queue/Consumer.B.VirtualTopic.Secret', () => {})
  assert.equal(
    (await error).headers.message,
    'User bob is not authorized to read from /queue/Consumer.B.VirtualTopic.Secret',
  )
  assert.equal(
    w.broker.router.listBindings({ destination: { kind: 'queue', name: 'Consumer.B.VirtualTopic.Secret' } }).length,
    0,
  )
  const bob2 = await stompjs(t, w, {
    login: 'bob',
    passcode: 'bob-pw',
    config: { connectHeaders: { login: 'bob', passcode: 'bob-pw', 'client-id': 'bob-app' } },
  })
  const error2 = stompError(bob2)
  bob2.subscribe('/topic/secret', () => {}, { 'activemq.subscriptionName': 'mine' })
  assert.equal((await error2).headers.message, 'User bob is not authorized to subscribe to /topic/secret')
  assert.equal(w.broker.getQueue('bob-app.mine'), undefined)
})

test("another connection's temporary queue cannot be drained through /queue/<its name>", async (t) => {
  const w = await startWharf(t)
  const owner = await stompjs(t, w)
  const other = await stompjs(t, w)
  await sendWithReceipt(owner, '/temp-queue/private', 'secret')
  const name = [...w.broker.listQueues()].map((q) => q.name).find((n) => n.startsWith('temp-queue.'))!
  const error = stompError(other)
  other.subscribe(`/queue/${name}`, () => {})
  assert.match((await error).headers.message!, /belongs to another connection/)
  assert.equal(w.broker.queue(name).depth(), 1)
})

test('composite SEND with one refused part: ERROR, and no part gets the message', async (t) => {
  const deny = {
    principal: 'User:bob',
    host: '*',
    operation: 'Write',
    permission: 'Deny',
    resourceType: 'Topic',
    resourceName: 'payroll',
    patternType: 'Literal',
  }
  const w = await startWharf(t, { anonymous: false, acls: [deny] })
  const bob = await stompjs(t, w, { login: 'bob', passcode: 'bob-pw' })
  const error = stompError(bob)
  bob.publish({ destination: '/queue/open,/queue/payroll', body: 'raise' })
  assert.equal((await error).headers.message, 'User bob is not authorized to write to /queue/payroll')
  assert.equal(w.broker.getQueue('open')?.depth() ?? 0, 0)
  assert.equal(w.broker.getQueue('payroll'), undefined)
})
