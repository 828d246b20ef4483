// Transactional sends through the anonymous relay (a sender with no target; each message's properties.to names
// its destination), with Qpid Proton (Debian python3-qpid-proton under /usr/bin/python3) logged in as bob:
// the destination is checked at the transfer as outside a transaction (rights, queue creation); a refused one
// is rejected and rolls the transaction back, so its commit fails with amqp:transaction:rollback.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { denyBobWrite } from '../../fixtures/acls.ts'
import { startWharf, type Wharf } from './helpers.ts'
import { runPython } from './proton-helpers.ts'

// Sends one message to each address in one transaction over an anonymous sender, then commits; prints each
// rejection's condition and the commit's outcome.
const RELAY_TX = `
import sys
from proton import Message, Url
from proton.handlers import MessagingHandler, TransactionHandler
from proton.reactor import Container

class RelayTx(MessagingHandler, TransactionHandler):
    def __init__(self, url, targets):
        super(RelayTx, self).__init__()
        self.url = Url(url)
        self.targets = targets
        self.settled = 0

    def on_start(self, event):
        self.conn = event.container.connect(self.url, user='bob', password='bob-pw', allowed_mechs='PLAIN',
                                            allow_insecure_mechs=True)
        self.sender = event.container.create_sender(self.conn, None)
        event.container.declare_transaction(self.conn, handler=self)

    def on_transaction_declared(self, event):
        self.txn = event.transaction
        for to in self.targets:
            self.txn.send(self.sender, Message(address=to, body='to ' + to))

    def on_rejected(self, event):
        print('rejected ' + event.delivery.remote.condition.name)

    def on_settled(self, event):
        if event.link == self.sender:
            self.settled += 1
            if self.settled == len(self.targets):
                self.txn.commit()

    def on_transaction_committed(self, event):
        print('committed')
        event.connection.close()

    def on_transaction_commit_failed(self, event):
        print('commit failed ' + event.delivery.remote.condition.name)
        event.connection.close()

Container(RelayTx(sys.argv[1], sys.argv[2:])).run()
`

/** Runs the script to its end; its stdout lines. */
async function relayTx(wharf: Wharf, targets: string[]): Promise<string[]> {
  const r = await runPython(['-c', RELAY_TX, `127.0.0.1:${wharf.port}`, ...targets])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.split('\n').filter((l) => l !== '')
}

test('Proton: transactional sends through the anonymous relay reach their properties.to at commit, a new queue created at the transfer', async (t) => {
  const wharf = await startWharf(t, { anonymous: false, acls: [denyBobWrite('payroll')] })
  await wharf.broker.createQueue('public', {})
  assert.deepEqual(await relayTx(wharf, ['public', 'made-by-relay', 'public']), ['committed'])
  assert.equal(wharf.broker.queueStats('public').depth, 2)
  assert.equal(wharf.broker.queueStats('made-by-relay').depth, 1)
})

test('Proton: a relay destination refused inside a transaction is rejected (amqp:unauthorized-access) and its commit fails with amqp:transaction:rollback', async (t) => {
  const wharf = await startWharf(t, { anonymous: false, acls: [denyBobWrite('payroll')] })
  await wharf.broker.createQueue('public', {})
  await wharf.broker.createQueue('payroll', {})
  assert.deepEqual(await relayTx(wharf, ['public', 'payroll']), [
    'rejected amqp:unauthorized-access',
    'commit failed amqp:transaction:rollback',
  ])
  // After the refusal the transaction is rolled back: a later send in it is rejected too, and nothing is stored.
  assert.deepEqual(await relayTx(wharf, ['payroll', 'public']), [
    'rejected amqp:unauthorized-access',
    'rejected amqp:transaction:rollback',
    'commit failed amqp:transaction:rollback',
  ])
  assert.equal(wharf.broker.queueStats('public').publishedTotal, 0)
  assert.equal(wharf.broker.queueStats('payroll').publishedTotal, 0)
})
