// STOMP authorization and resource alarms with stompjs: an ACL that denies a queue gets ERROR with
// ActiveMQ's wording and closes the connection (the queue is not created); a disk alarm holds a publishing
// connection unread (its receipted SEND waits, unrouted) until the alarm clears, while subscribers go on.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { IFrame } from '@stomp/stompjs'
import { denyBobWrite } from '../../fixtures/acls.ts'
import { diskAlarms } from '../../fixtures/alarmed-wharf.ts'
import { collector, sendWithReceipt, startWharf, stompjs } from './helpers.ts'

test('an ACL denying Write on a queue: SEND gets ERROR "not authorized", the connection closes, no queue is made', async (t) => {
  const w = await startWharf(t, {
    anonymous: false,
    acls: [denyBobWrite('payroll')],
  })
  const bob = await stompjs(t, w, { login: 'bob', passcode: 'bob-pw' })
  const error = new Promise<IFrame>((resolve) => {
    bob.onStompError = resolve
  })
  bob.publish({ destination: '/queue/payroll', body: 'raise', headers: { receipt: 'r' } })
  const frame = await error
  assert.equal(frame.headers.message, 'User bob is not authorized to write to /queue/payroll')
  assert.equal(frame.headers['receipt-id'], 'r')
  assert.equal(w.broker.getQueue('payroll'), undefined)
  const alice = await stompjs(t, w, { login: 'alice', passcode: 'alice-pw' })
  await sendWithReceipt(alice, '/queue/payroll', 'administrators are not bound by rules')
})

test('a disk alarm holds a publishing STOMP connection until it clears; its SEND then goes through', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-stomp-alarm-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { alarms, disk } = diskAlarms(dir, 1000, 1_000_000)
  t.after(() => alarms.close())
  await alarms.check()
  const w = await startWharf(t, { dir, alarms })
  const producer = await stompjs(t, w)
  const consumer = await stompjs(t, w)
  const got = collector()
  consumer.subscribe('/queue/alarmed', got.onMessage)
  await sendWithReceipt(producer, '/queue/alarmed', 'before')
  await got.next(1)

  disk.free = 10
  await alarms.check()
  let receipted = false
  const held = sendWithReceipt(producer, '/queue/alarmed', 'during').then(() => {
    receipted = true
  })
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(receipted, false, 'no receipt while the alarm is on')
  assert.equal(got.messages.length, 1, 'the SEND waits unrouted')
  assert.equal(w.listener.blockedPublisherCount, 1)

  disk.free = 1_000_000
  await alarms.check()
  await held
  assert.equal((await got.next(2))[1]!.body, 'during')
  assert.equal(w.listener.blockedPublisherCount, 0)
})
