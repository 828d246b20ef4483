// A wildcard bind advertises a host remote clients can use: the configured one, else this machine's first
// non-internal IPv4 address, else the listener refuses to start and names the setting. (Clients here only
// connect to 127.0.0.1: the advertised host is read from the Metadata answer, never dialled.)
import assert from 'node:assert/strict'
import { networkInterfaces } from 'node:os'
import { test } from 'node:test'
import { advertisedHostFor } from '../../../src/protocols/kafka/advertised.ts'
import { ApiKey, type MetadataResponse } from '../../../src/protocols/kafka/codec/index.ts'
import { startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

async function advertised(port: number): Promise<{ host: string; port: number }> {
  const c = new RawClient(port)
  try {
    c.send(ApiKey.Metadata, 9, 1, { topics: [], allowAutoTopicCreation: false })
    const { body } = await c.response<MetadataResponse>(ApiKey.Metadata, 9)
    return { host: body.brokers[0]!.host, port: body.brokers[0]!.port }
  } finally {
    c.socket.destroy()
  }
}

const firstIpv4 = Object.values(networkInterfaces())
  .flatMap((list) => list ?? [])
  .find((a) => a.family === 'IPv4' && !a.internal)?.address

test('binding 0.0.0.0 advertises the first non-internal IPv4 address, not 127.0.0.1', {
  skip: !firstIpv4,
}, async (t) => {
  const h = await startHarness(t, {}, { host: '0.0.0.0' })
  assert.deepEqual(await advertised(h.port), { host: firstIpv4, port: h.port })
})

test('a configured advertised host wins over the derived one', async (t) => {
  const h = await startHarness(t, { advertisedHost: 'kafka.example.test' }, { host: '0.0.0.0' })
  assert.deepEqual(await advertised(h.port), { host: 'kafka.example.test', port: h.port })
  const local = await startHarness(t)
  assert.equal((await advertised(local.port)).host, '127.0.0.1')
})

test('with no usable address a wildcard bind is refused with the setting named', () => {
  const loopbackOnly = {
    lo: [
      {
        address: '127.0.0.1',
        netmask: '255.0.0.0',
        family: 'IPv4' as const,
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '127.0.0.1/8',
      },
    ],
  }
  assert.throws(
    () => advertisedHostFor('0.0.0.0', null, loopbackOnly),
    /--kafka-advertised-host.*WHARF_KAFKA_ADVERTISED_HOST/,
  )
  assert.equal(advertisedHostFor('::', 'broker.internal', loopbackOnly), 'broker.internal')
  assert.equal(advertisedHostFor('localhost', null, loopbackOnly), '127.0.0.1')
  assert.equal(advertisedHostFor('10.1.2.3', null, loopbackOnly), '10.1.2.3')
})
