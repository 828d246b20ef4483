// Qpid Proton (Debian python3-qpid-proton, importable only by /usr/bin/python3): its examples, run unmodified
// from /usr/share/proton/examples/python with their own flags, against an in-process Wharf with anonymous access
// (the examples connect without credentials); and Container API scripts of our own for what the examples do not
// show: a rolled-back transaction, and a commit that survives a crash right after its commit record.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startWharf, type Wharf } from './helpers.ts'
import { PYTHON_BIN, runPython } from './proton-helpers.ts'

const EXAMPLES = '/usr/share/proton/examples/python'

const run = runPython

function url(wharf: Wharf, address: string): string {
  return `127.0.0.1:${wharf.port}/${address}`
}

/** An example script, unmodified, with its own -a flag and the given ones; it must exit 0. */
async function example(name: string, wharf: Wharf, address: string, ...flags: string[]): Promise<string[]> {
  const r = await run([join(EXAMPLES, name), '-a', url(wharf, address), ...flags])
  assert.equal(r.code, 0, `${name} exited ${r.code}: ${r.stderr}`)
  return r.stdout.split('\n').filter((l) => l !== '')
}

/** A long-running example (server.py), stopped by its pid after the test. */
function background(t: TestContext, name: string, wharf: Wharf, address: string): ChildProcess {
  const child = spawn(PYTHON_BIN, [join(EXAMPLES, name), '-a', url(wharf, address)], { stdio: 'ignore' })
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  return child
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('simple_send.py then simple_recv.py: every message sent is confirmed, stored and received once', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  assert.deepEqual(await example('simple_send.py', wharf, 'examples', '-m', '50'), ['all messages confirmed'])
  assert.equal(wharf.broker.queueStats('examples').ready, 50)
  const bodies = await example('simple_recv.py', wharf, 'examples', '-m', '50')
  assert.deepEqual(
    bodies,
    Array.from({ length: 50 }, (_, i) => `{'sequence': ${i + 1}}`),
  )
  await until('the acks', () => wharf.broker.queueStats('examples').depth === 0)
})

test('colour_send.py then selected_recv.py: the selector colour = green takes only the green messages', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  assert.deepEqual(await example('colour_send.py', wharf, 'colours', '-m', '10'), ['all messages confirmed'])
  const bodies = await example('selected_recv.py', wharf, 'colours', '-m', '5')
  assert.deepEqual(bodies, ['green 1', 'green 3', 'green 5', 'green 7', 'green 9'])
  // The red ones stay for other consumers.
  await until('the acks', () => wharf.broker.queueStats('colours').depth === 5)
  assert.equal(wharf.broker.queueStats('colours').ready, 5)
})

test('server.py and client.py: request/reply through a dynamic reply-to queue and the anonymous relay', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  await wharf.broker.createQueue('requests', {})
  background(t, 'server.py', wharf, 'requests')
  await until('the server', () => wharf.broker.queueStats('requests').consumers === 1)
  const r = await run([join(EXAMPLES, 'client.py'), '-a', url(wharf, 'requests')], 20_000)
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => l !== ''),
    [
      'Twas brillig, and the slithy toves => TWAS BRILLIG, AND THE SLITHY TOVES',
      'Did gire and gymble in the wabe. => DID GIRE AND GYMBLE IN THE WABE.',
      'All mimsy were the borogroves, => ALL MIMSY WERE THE BOROGROVES,',
      'And the mome raths outgrabe. => AND THE MOME RATHS OUTGRABE.',
    ],
  )
})

test('tx_send.py commits in batches, tx_recv.py acks in transactions: all stored, all acked', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  assert.deepEqual(await example('tx_send.py', wharf, 'tx-queue', '-m', '40', '-b', '8'), ['all messages committed'])
  const stats = wharf.broker.queueStats('tx-queue')
  assert.equal(stats.ready, 40)
  const bodies = await example('tx_recv.py', wharf, 'tx-queue', '-m', '40', '-b', '8')
  assert.deepEqual(
    bodies,
    Array.from({ length: 40 }, (_, i) => `{'sequence': ${i + 1}}`),
  )
  // tx_recv never settles its deliveries itself: the commits acked them.
  await until('the committed acks', () => wharf.broker.queueStats('tx-queue').depth === 0)
  assert.equal(wharf.broker.queueStats('tx-queue').ackedTotal, 40)
})

test('tx_send.py to a topic: the committed messages reach a subscriber (simple_recv.py) in order', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  const received = run([join(EXAMPLES, 'simple_recv.py'), '-a', url(wharf, 'topic://tx-news'), '-m', '12'])
  await until('the subscription', () =>
    wharf.broker.listQueues().some((q) => q.name.startsWith('amqp10.subscription.') && q.queueStats().consumers === 1),
  )
  assert.deepEqual(await example('tx_send.py', wharf, 'topic://tx-news', '-m', '12', '-b', '4'), [
    'all messages committed',
  ])
  const r = await received
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => l !== ''),
    Array.from({ length: 12 }, (_, i) => `{'sequence': ${i + 1}}`),
  )
})

// Sends three messages in a transaction and aborts it; then takes the two messages waiting, accepts them in a
// second transaction and aborts that too; then, on the same connection, receives them again (their delivery
// count shows they came back) and accepts them outside any transaction.
const ROLLBACK = `
import json, sys
from proton import Message, Url
from proton.handlers import MessagingHandler, TransactionHandler
from proton.reactor import Container

class Rollback(MessagingHandler, TransactionHandler):
    def __init__(self, url):
        super(Rollback, self).__init__(prefetch=0, auto_accept=False)
        self.url = Url(url)
        self.step = 'send'
        self.settled = 0
        self.received = []

    def on_start(self, event):
        self.container = event.container
        self.conn = event.container.connect(self.url)
        self.sender = event.container.create_sender(self.conn, self.url.path)
        self.receiver = event.container.create_receiver(self.conn, self.url.path)

    def on_sendable(self, event):
        if self.step == 'send' and not hasattr(self, 'txn'):
            self.txn = None
            self.container.declare_transaction(self.conn, handler=self)

    def on_transaction_declared(self, event):
        self.txn = event.transaction
        if self.step == 'send':
            for i in range(3):
                self.txn.send(self.sender, Message(body='rolled back %d' % i))
        else:
            self.receiver.flow(2)

    def on_settled(self, event):
        if event.link == self.sender:
            self.settled += 1
            if self.settled == 3:
                self.txn.abort()

    def on_message(self, event):
        self.received.append({'step': self.step, 'body': event.message.body, 'count': event.message.delivery_count})
        if self.step == 'receive':
            self.txn.accept(event.delivery)
            if len(self.received) == 2:
                self.txn.abort()
        else:
            self.accept(event.delivery)
            if len(self.received) == 4:
                print(json.dumps(self.received))
                event.connection.close()

    def on_transaction_aborted(self, event):
        if self.step == 'send':
            self.step = 'receive'
            self.container.declare_transaction(self.conn, handler=self)
        else:
            self.step = 'again'
            self.receiver.flow(2)

Container(Rollback(sys.argv[1])).run()
`

test('Proton Container API: a rolled-back transaction stores none of its sends and gives back what it took', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  assert.deepEqual(await example('simple_send.py', wharf, 'rollback', '-m', '2'), ['all messages confirmed'])
  const r = await run(['-c', ROLLBACK, url(wharf, 'rollback')])
  assert.equal(r.code, 0, r.stderr)
  const received = JSON.parse(r.stdout) as Array<{ step: string; body: unknown; count: number }>
  assert.deepEqual(received, [
    { step: 'receive', body: { sequence: 1 }, count: 0 },
    { step: 'receive', body: { sequence: 2 }, count: 0 },
    { step: 'again', body: { sequence: 1 }, count: 1 },
    { step: 'again', body: { sequence: 2 }, count: 1 },
  ])
  await until('the acks', () => wharf.broker.queueStats('rollback').depth === 0)
  // Two published by simple_send.py; none of the three rolled-back sends.
  assert.equal(wharf.broker.queueStats('rollback').publishedTotal, 2)
})

// In one transaction: takes the message waiting on the first address and sends one to the second; commits.
const MOVE = `
import sys
from proton import Message, Url
from proton.handlers import MessagingHandler, TransactionHandler
from proton.reactor import Container

class Move(MessagingHandler, TransactionHandler):
    def __init__(self, url, to):
        super(Move, self).__init__(prefetch=0, auto_accept=False)
        self.url = Url(url)
        self.to = to

    def on_start(self, event):
        self.conn = event.container.connect(self.url)
        self.receiver = event.container.create_receiver(self.conn, self.url.path)
        self.sender = event.container.create_sender(self.conn, self.to)
        event.container.declare_transaction(self.conn, handler=self)

    def on_transaction_declared(self, event):
        self.txn = event.transaction
        self.receiver.flow(1)

    def on_message(self, event):
        self.txn.accept(event.delivery)
        self.txn.send(self.sender, Message(body='moved: ' + event.message.body.decode()))
        self.txn.commit()

    def on_transaction_committed(self, event):
        print('committed')
        event.connection.close()

Container(Move(sys.argv[1], sys.argv[2])).run()
`

test('Proton Container API: a transactional ack and send committed just before a crash are both there after restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp10-tx-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const first = await startWharf(t, { anonymous: true, dir })
  await first.broker.createQueue('move-in', {})
  await first.broker.createQueue('move-out', {})
  await first.broker.sendToQueue('move-in', [{ value: 'parcel' }])
  // The commit stops right after its fsynced commit record, as a crash there would: nothing applied yet.
  first.broker.transactions.stopAfter = 'commit-record'
  const r = await run(['-c', MOVE, url(first, 'move-in'), 'move-out'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'committed')
  assert.equal(first.broker.queueStats('move-out').depth, 0)
  await first.stop()

  const second = await startWharf(t, { anonymous: true, dir })
  assert.equal(second.broker.queueStats('move-in').depth, 0)
  assert.equal(second.broker.queueStats('move-out').depth, 1)
  assert.deepEqual(await example('simple_recv.py', second, 'move-out', '-m', '1'), ['moved: parcel'])
})

// The coordinator's refusals as Proton reports them: the condition of a failed commit, or what a connection
// closed in the middle of a transaction left behind. argv: url, mode, the address it takes from (close mode).
const FAILURES = `
import sys
from proton import Message, Url
from proton.handlers import MessagingHandler, TransactionHandler
from proton.reactor import Container

class Failures(MessagingHandler, TransactionHandler):
    def __init__(self, url, mode, source):
        super(Failures, self).__init__(prefetch=0, auto_accept=False)
        self.url = Url(url)
        self.mode = mode
        self.source = source

    def on_start(self, event):
        self.container = event.container
        self.conn = event.container.connect(self.url)
        self.sender = event.container.create_sender(self.conn, self.url.path)
        if self.mode in ('close', 'settle-unknown'):
            self.receiver = event.container.create_receiver(self.conn, self.source)
        event.container.declare_transaction(self.conn, handler=self)

    def on_transaction_declared(self, event):
        self.txn = event.transaction
        if self.mode == 'unknown':
            self.txn.id = b'no-such-transaction'
            self.txn.commit()
        elif self.mode == 'settle-unknown':
            self.receiver.flow(1)
        elif self.mode == 'too-big':
            self.txn.send(self.sender, Message(body='x' * 4096))
        elif self.mode == 'timeout':
            self.txn.send(self.sender, Message(body='too late'))
            self.container.schedule(1.5, self)
        else:
            self.txn.send(self.sender, Message(body='never'))
            self.receiver.flow(1)

    def on_message(self, event):
        if self.mode == 'settle-unknown':
            self.txn.id = b'no-such-transaction'
            self.txn.accept(event.delivery)
            return
        self.txn.accept(event.delivery)
        self.taken = True
        self.close_when_done()

    def on_rejected(self, event):
        print(event.delivery.remote.condition.name)

    def on_settled(self, event):
        if event.link == self.sender and self.mode == 'too-big':
            self.txn.commit()
        elif event.link == self.sender:
            self.sent = True
            self.close_when_done()

    def close_when_done(self):
        if getattr(self, 'taken', False) and getattr(self, 'sent', False):
            print('sent and taken')
            self.conn.close()

    def on_connection_error(self, event):
        print(event.connection.remote_condition.name)
        event.connection.close()

    def on_timer_task(self, event):
        self.txn.commit()

    def on_transaction_committed(self, event):
        print('committed')
        event.connection.close()

    def on_transaction_commit_failed(self, event):
        print(event.delivery.remote.condition.name)
        event.connection.close()

Container(Failures(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)).run()
`

test('Proton: discharging a txn-id the connection never declared fails with amqp:transaction:unknown-id', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  const r = await run(['-c', FAILURES, url(wharf, 'failures'), 'unknown'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'amqp:transaction:unknown-id')
})

test('Proton: a transaction open past transactionTimeoutMs is rolled back; its commit fails with amqp:transaction:timeout', async (t) => {
  const wharf = await startWharf(t, { anonymous: true, amqp10Limits: { transactionTimeoutMs: 300 } })
  const r = await run(['-c', FAILURES, url(wharf, 'late'), 'timeout'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'amqp:transaction:timeout')
  assert.equal(wharf.broker.queueStats('late').publishedTotal, 0)
})

test('Proton: a connection closed with a transaction open rolls it back (its send gone, what it took back)', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  await wharf.broker.createQueue('taken-from', {})
  await wharf.broker.createQueue('sent-to', {})
  await wharf.broker.sendToQueue('taken-from', [{ value: 'held' }])
  const r = await run(['-c', FAILURES, url(wharf, 'sent-to'), 'close', 'taken-from'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'sent and taken')
  await until('the message back', () => wharf.broker.queueStats('taken-from').ready === 1)
  assert.equal(wharf.broker.queueStats('taken-from').ackedTotal, 0)
  assert.equal(wharf.broker.queueStats('sent-to').publishedTotal, 0)
})

test('Proton: settling a delivery in a txn-id the connection never declared closes it with amqp:transaction:unknown-id', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  await wharf.broker.createQueue('unknown-in', {})
  await wharf.broker.sendToQueue('unknown-in', [{ value: 'kept' }])
  const r = await run(['-c', FAILURES, url(wharf, 'unknown-out'), 'settle-unknown', 'unknown-in'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'amqp:transaction:unknown-id')
  await until('the message back', () => wharf.broker.queueStats('unknown-in').ready === 1)
  assert.equal(wharf.broker.queueStats('unknown-in').ackedTotal, 0)
})

test('Proton: a send the broker refuses (over bytesMax) is rejected and rolls the transaction back: its commit fails', async (t) => {
  const wharf = await startWharf(t, { anonymous: true, transactionLimits: { bytesMax: 1024 } })
  await wharf.broker.createQueue('too-big', {})
  const r = await run(['-c', FAILURES, url(wharf, 'too-big'), 'too-big'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(r.stdout.trim().split('\n'), ['amqp:resource-limit-exceeded', 'amqp:transaction:rollback'])
  assert.equal(wharf.broker.queueStats('too-big').publishedTotal, 0)
})
