// pika (BlockingConnection, via /usr/bin/python3) against AMQP security: PLAIN over TLS with the right and a
// wrong password, EXTERNAL with a client certificate (the certificate's CN is the user) and without one (the
// server does not offer EXTERNAL), and the 530 text for an unknown vhost.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { devCertificates } from '../../fixtures/tls.ts'
import { startWharf } from './helpers.ts'

const run = promisify(execFile)

/** Connects as told (argv[1] is JSON), round-trips one message, prints the outcome as JSON. */
const PIKA = `
import sys, json, ssl, pika
o = json.loads(sys.argv[1])
ssl_options = None
if o.get('ca'):
    context = ssl.create_default_context(cafile=o['ca'])
    if o.get('cert'):
        context.load_cert_chain(o['cert'], o['key'])
    ssl_options = pika.SSLOptions(context, 'localhost')
if o.get('external'):
    credentials = pika.credentials.ExternalCredentials()
else:
    credentials = pika.PlainCredentials(o['user'], o['password'])
params = pika.ConnectionParameters('localhost', o['port'], virtual_host=o.get('vhost', '/'),
                                   credentials=credentials, ssl_options=ssl_options,
                                   connection_attempts=1)
try:
    conn = pika.BlockingConnection(params)
except Exception as e:
    print(json.dumps({'error': type(e).__name__, 'message': str(e)}))
    sys.exit(0)
ch = conn.channel()
ch.queue_declare(o['queue'])
ch.basic_publish('', o['queue'], b'hello')
body = None
while body is None:
    method, props, body = ch.basic_get(o['queue'], auto_ack=True)
out = {'body': body.decode()}
if o.get('probe'):
    # A queue this user may not read: the refusal names the user the broker sees.
    try:
        ch.basic_get(o['probe'], auto_ack=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        out['probe'] = [e.reply_code, e.reply_text]
print(json.dumps(out))
conn.close()
`

interface Outcome {
  body?: string
  probe?: [number, string]
  error?: string
  message?: string
}

async function pika(options: Record<string, unknown>): Promise<Outcome> {
  const { stdout } = await run('/usr/bin/python3', ['-c', PIKA, JSON.stringify(options)], { timeout: 30_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome
}

const security = {
  users: [
    { name: 'alice', password: 'alice-pw' },
    { name: 'bob', password: 'bob-pw' },
  ],
  acls: [
    {
      principal: 'User:client',
      host: '*',
      operation: 'Read',
      permission: 'Deny',
      resourceType: 'Topic',
      resourceName: 'not-for-client',
      patternType: 'Literal',
    },
  ],
}

test('pika over TLS with PLAIN: the right password works, a wrong one is refused with 403', async (t) => {
  const w = await startWharf(t, {}, { security, tls: { clientAuth: 'none' } })
  const { ca } = await devCertificates()
  const port = w.listener.tlsPort
  assert.deepEqual(await pika({ port, ca, user: 'alice', password: 'alice-pw', queue: 'pika-tls' }), {
    body: 'hello',
  })
  const wrong = await pika({ port, ca, user: 'alice', password: 'nope', queue: 'pika-tls' })
  assert.equal(wrong.error, 'ProbableAuthenticationError')
  assert.match(
    wrong.message ?? '',
    /\(403\) 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN\. For details see the broker logfile\.'/,
  )
})

test('pika EXTERNAL: the client certificate CN is the user; without a certificate EXTERNAL is not offered', async (t) => {
  const w = await startWharf(t, {}, { security, tls: { clientAuth: 'request' } })
  const certs = await devCertificates()
  const port = w.listener.tlsPort
  const client = certs.clients.client!
  // 'client' is not a user of the store: the CA that verified the certificate vouches for the name.
  assert.equal(w.broker.security.users.get('client'), undefined)
  assert.deepEqual(
    await pika({
      port,
      ca: certs.ca,
      cert: client.cert,
      key: client.key,
      external: true,
      queue: 'pika-ext',
      probe: 'not-for-client',
    }),
    {
      body: 'hello',
      probe: [403, "ACCESS_REFUSED - access to queue 'not-for-client' in vhost '/' refused for user 'client'"],
    },
  )

  const without = await pika({ port, ca: certs.ca, external: true, queue: 'pika-ext' })
  assert.equal(without.error, 'AuthenticationError')
  assert.match(without.message ?? '', /EXTERNAL/)
  // A certificate does not stop PLAIN from working on the same port.
  assert.deepEqual(
    await pika({ port, ca: certs.ca, cert: client.cert, key: client.key, user: 'bob', password: 'bob-pw', queue: 'q' }),
    { body: 'hello' },
  )
  // Plaintext connections never offer EXTERNAL.
  const plain = await pika({ port: w.port, external: true, queue: 'pika-ext' })
  assert.equal(plain.error, 'AuthenticationError')
})

test('pika: an unknown vhost is refused with 530 NOT_ALLOWED', async (t) => {
  const w = await startWharf(t, {}, { security })
  const outcome = await pika({ port: w.port, user: 'alice', password: 'alice-pw', vhost: 'other', queue: 'q' })
  assert.equal(outcome.error, 'ProbableAccessDeniedError')
  assert.match(outcome.message ?? '', /\(530\) 'NOT_ALLOWED - vhost other not found'/)
})
