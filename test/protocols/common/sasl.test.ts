// The shared SASL module: PLAIN parsing, the SCRAM server exchange against the RFC 7677 test vector, the
// librdkafka nonce quirk, unknown users, and the Security-backed server (real user store, real failure path).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  deriveScramCredential,
  hash,
  hmac,
  type ScramMechanism,
  saltPassword,
} from '../../../src/broker/security/scram.ts'
import { parsePlain } from '../../../src/protocols/common/sasl/plain.ts'
import { parseClientFirst, ScramError, ScramServer } from '../../../src/protocols/common/sasl/scram.ts'
import { createSaslServer } from '../../../src/protocols/common/sasl/server.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

// RFC 7677 section 3.
const rfc = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
}

async function rfcServer(): Promise<ScramServer> {
  const credential = await deriveScramCredential(
    'SCRAM-SHA-256',
    'pencil',
    4096,
    Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
  )
  return new ScramServer('SCRAM-SHA-256', (name) => (name === 'user' ? credential : undefined), {
    serverNonce: rfc.serverNonce,
  })
}

/** What a SCRAM client computes: the client-final for a server-first, and the server signature to expect. */
async function clientFinal(
  mechanism: ScramMechanism,
  password: string,
  clientFirstBare: string,
  serverFirst: string,
  finalNonce?: string,
): Promise<{ message: string; serverSignature: string }> {
  const attrs = new Map(serverFirst.split(',').map((p) => [p.slice(0, 1), p.slice(2)]))
  const salted = await saltPassword(mechanism, password, Buffer.from(attrs.get('s')!, 'base64'), Number(attrs.get('i')))
  const clientKey = hmac(mechanism, salted, 'Client Key')
  const withoutProof = `c=biws,r=${finalNonce ?? attrs.get('r')}`
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
  const signature = hmac(mechanism, hash(mechanism, clientKey), authMessage)
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!))
  const serverSignature = hmac(mechanism, hmac(mechanism, salted, 'Server Key'), authMessage).toString('base64')
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature }
}

test('PLAIN messages: authzid, authcid, password; malformed ones are refused', () => {
  assert.deepEqual(parsePlain(Buffer.from('\0alice\0pw')), { authzid: '', authcid: 'alice', password: 'pw' })
  assert.deepEqual(parsePlain(Buffer.from('admin\0alice\0p\u00e4ss')), {
    authzid: 'admin',
    authcid: 'alice',
    password: 'p\u00e4ss',
  })
  assert.equal(parsePlain(Buffer.from('alice\0pw')), undefined)
  assert.equal(parsePlain(Buffer.from('\0\0pw')), undefined)
  assert.equal(parsePlain(Buffer.from('\0alice\0')), undefined)
  assert.equal(parsePlain(Buffer.from('\0a\0b\0c')), undefined)
})

test('SCRAM-SHA-256 server reproduces the RFC 7677 exchange', async () => {
  const server = await rfcServer()
  assert.equal(server.first(Buffer.from(rfc.clientFirst)).toString(), rfc.serverFirst)
  const result = server.final(Buffer.from(rfc.clientFinal))
  assert.ok(result.ok, JSON.stringify(result))
  assert.equal(result.serverFinal.toString(), rfc.serverFinal)
  assert.equal(result.username, 'user')
})

test('SCRAM: a wrong proof, a wrong nonce, a channel-binding mismatch fail; steps out of order throw', async () => {
  const wrongProof = await rfcServer()
  wrongProof.first(Buffer.from(rfc.clientFirst))
  const badProof = rfc.clientFinal.replace('p=dHzb', 'p=eHzb')
  assert.deepEqual(wrongProof.final(Buffer.from(badProof)), { ok: false, username: 'user', reason: 'invalid proof' })

  const wrongNonce = await rfcServer()
  wrongNonce.first(Buffer.from(rfc.clientFirst))
  const badNonce = rfc.clientFinal.replace('hNlF$k0', 'hNlF$k1')
  assert.equal(wrongNonce.final(Buffer.from(badNonce)).ok, false)

  const binding = await rfcServer()
  binding.first(Buffer.from(rfc.clientFirst))
  assert.equal(binding.final(Buffer.from(rfc.clientFinal.replace('c=biws', 'c=eSws'))).ok, false)

  const early = await rfcServer()
  assert.throws(() => early.final(Buffer.from(rfc.clientFinal)), ScramError)
  early.first(Buffer.from(rfc.clientFirst))
  assert.throws(() => early.first(Buffer.from(rfc.clientFirst)), ScramError)
  early.final(Buffer.from(rfc.clientFinal))
  assert.throws(() => early.final(Buffer.from(rfc.clientFinal)), ScramError)
})

test('SCRAM: a final nonce that repeats the client nonce in front (librdkafka 2.0.2) is accepted, as Kafka does', async () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    const credential = await deriveScramCredential(mechanism, 'alice-pw')
    const server = new ScramServer(mechanism, () => credential)
    const bare = 'n=alice,r=clientnonce123'
    const serverFirst = server.first(Buffer.from(`n,,${bare}`)).toString()
    const combined = serverFirst.split(',')[0]!.slice(2)
    assert.ok(combined.startsWith('clientnonce123') && combined.length > 'clientnonce123'.length)
    const quirk = await clientFinal(mechanism, 'alice-pw', bare, serverFirst, `clientnonce123${combined}`)
    const result = server.final(Buffer.from(quirk.message))
    assert.ok(result.ok, `${mechanism}: ${JSON.stringify(result)}`)
    assert.equal(result.serverFinal.toString(), `v=${quirk.serverSignature}`)

    // Only the tail matters: a final nonce that drops our part is still refused.
    const other = new ScramServer(mechanism, () => credential)
    const otherFirst = other.first(Buffer.from(`n,,${bare}`)).toString()
    const truncated = await clientFinal(mechanism, 'alice-pw', bare, otherFirst, 'clientnonce123')
    assert.equal(other.final(Buffer.from(truncated.message)).ok, false)
  }
})

test('SCRAM client-first grammar: escapes, authzid, extensions; channel binding and bad input refused', () => {
  const parsed = parseClientFirst('n,a=bo=3Db,n=bo=3Db=2Cx,r=abc,tokenauth=true')
  assert.equal(parsed.username, 'bo=b,x')
  assert.equal(parsed.authzid, 'bo=b')
  assert.equal(parsed.gs2Header, 'n,a=bo=3Db,')
  assert.equal(parsed.bare, 'n=bo=3Db=2Cx,r=abc,tokenauth=true')
  assert.equal(parsed.extensions.get('tokenauth'), 'true')
  assert.equal(parseClientFirst('y,,n=u,r=x').gs2Header, 'y,,')
  for (const bad of [
    'p=tls-unique,,n=u,r=x',
    'q,,n=u,r=x',
    'n,,r=x,n=u',
    'n,,n=u',
    'n,,n=,r=x',
    'n,,n=u=2D,r=x',
    'n,,m=ext,n=u,r=x',
    'n,,n=u,r=a,b',
    'garbage',
  ])
    assert.throws(() => parseClientFirst(bad), ScramError, bad)
})

test('SCRAM: an unknown user gets a stable made-up salt and the default iterations, and fails at the proof', () => {
  const lookup = () => undefined
  const a = new ScramServer('SCRAM-SHA-512', lookup).first(Buffer.from('n,,n=nobody,r=abc')).toString()
  const b = new ScramServer('SCRAM-SHA-512', lookup).first(Buffer.from('n,,n=nobody,r=abc')).toString()
  const salt = (m: string) => m.split(',')[1]
  assert.equal(salt(a), salt(b))
  assert.match(a, /,i=4096$/)
  const other = new ScramServer('SCRAM-SHA-512', lookup).first(Buffer.from('n,,n=somebody,r=abc')).toString()
  assert.notEqual(salt(other), salt(a))
})

test('createSaslServer: PLAIN and SCRAM against the user store; failures, loopback-only users, authzid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sasl-'))
  const broker = await createTestBroker({
    dataDir: dir,
    durability: 'never',
    security: { users: [{ name: 'alice', password: 'alice-pw' }] },
  })
  t.after(async () => {
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await broker.security.users.put('guest', { password: 'guest', loopbackOnly: true })
  // Each login comes from its own documentation address, so failures are not slowed by earlier ones (the
  // delay grows per source address); 127.0.0.1 is there for the loopback-only guest.
  let peers = 0
  const from = (address = `192.0.2.${++peers}`) => {
    const socket = new net.Socket()
    Object.defineProperty(socket, 'remoteAddress', { value: address })
    return { security: broker.security, logger: silentLogger, protocol: 'test', socket }
  }
  const plain = (message: string, address?: string) =>
    createSaslServer('PLAIN', { ...from(address), mechanism: 'PLAIN' }).step(Buffer.from(message))

  const ok = await plain('\0alice\0alice-pw')
  assert.equal(ok.kind, 'success')
  assert.equal(ok.kind === 'success' && ok.principal.name, 'alice')
  assert.equal((await plain('\0alice\0wrong')).kind, 'failure')
  assert.equal((await plain('bob\0alice\0alice-pw')).kind, 'failure')
  assert.equal((await plain('not plain')).kind, 'failure')
  assert.equal((await plain('\0guest\0guest')).kind, 'failure', 'guest is loopback-only')
  assert.equal((await plain('\0guest\0guest', '127.0.0.1')).kind, 'success')

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    const login = async (user: string, password: string, address?: string) => {
      const server = createSaslServer(mechanism, { ...from(address), mechanism })
      const bare = `n=${user},r=nonce${mechanism.length}`
      const first = await server.step(Buffer.from(`n,,${bare}`))
      assert.equal(first.kind, 'challenge')
      const serverFirst = first.kind === 'challenge' ? first.challenge.toString() : ''
      const final = await clientFinal(mechanism, password, bare, serverFirst)
      const step = await server.step(Buffer.from(final.message))
      if (step.kind === 'success') assert.equal(step.data.toString(), `v=${final.serverSignature}`)
      return step
    }
    const good = await login('alice', 'alice-pw')
    assert.equal(good.kind, 'success', mechanism)
    assert.equal(good.kind === 'success' && good.principal.mechanism, mechanism)
    assert.equal((await login('alice', 'nope')).kind, 'failure')
    assert.equal((await login('nobody', 'alice-pw')).kind, 'failure')
    assert.equal((await login('guest', 'guest')).kind, 'failure', 'guest is loopback-only')
    assert.equal((await login('guest', 'guest', '127.0.0.1')).kind, 'success')
    const malformed = createSaslServer(mechanism, { ...from(), mechanism })
    assert.equal((await malformed.step(Buffer.from('p=tls-unique,,n=alice,r=x'))).kind, 'failure')
  }
})
