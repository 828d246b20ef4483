// The hand-built PUBLISH header and the PUBACK/PUBCOMP fast path must produce exactly what mqtt-packet
// would: compared byte for byte (encode) and packet for packet (decode) across the length boundaries.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import mqttPacket from 'mqtt-packet'
import { encodePublishHeader, MqttDecoder } from '../../../src/protocols/mqtt/wire/codec.ts'

test('PUBLISH header + payload equals mqtt-packet generate (v3.1.1 and v5, every QoS/flag, length boundaries)', () => {
  const topics = ['a', 'sensors/ü/temp', 'x'.repeat(300)]
  const sizes = [0, 1, 100, 121, 122, 123, 127, 128, 16_370, 16_383, 16_384, 70_000, 2_097_152]
  let checked = 0
  for (const version of [4, 5]) {
    for (const topic of topics) {
      for (const size of sizes) {
        for (const qos of [0, 1, 2] as const) {
          for (const retain of [false, true]) {
            const dup = qos > 0 && size % 2 === 0
            const payload = Buffer.alloc(size, 7)
            const expected = mqttPacket.generate(
              { cmd: 'publish', topic, payload, qos, retain, dup, ...(qos > 0 ? { messageId: 4242 } : {}) },
              { protocolVersion: version },
            )
            const header = encodePublishHeader(
              Buffer.from(topic),
              size,
              qos,
              retain,
              dup,
              4242,
              version === 5 ? Buffer.from([0]) : null,
              Number.POSITIVE_INFINITY,
            )
            assert.ok(header !== null)
            assert.deepEqual(Buffer.concat([header, payload]), expected, `v${version} ${topic.length}/${size}/${qos}`)
            checked++
          }
        }
      }
    }
  }
  assert.equal(checked, 2 * 3 * 13 * 3 * 2)
})

test('PUBLISH header respects the client Maximum Packet Size', () => {
  const full = mqttPacket.generate(
    { cmd: 'publish', topic: 't', payload: Buffer.alloc(200), qos: 1, messageId: 1, retain: false, dup: false },
    { protocolVersion: 4 },
  )
  assert.notEqual(encodePublishHeader(Buffer.from('t'), 200, 1, false, false, 1, null, full.length), null)
  assert.equal(encodePublishHeader(Buffer.from('t'), 200, 1, false, false, 1, null, full.length - 1), null)
})

test('PUBACK/PUBCOMP fast path decodes like mqtt-packet, also split across reads', () => {
  const frames = [
    mqttPacket.generate({ cmd: 'puback', messageId: 1 }, { protocolVersion: 4 }),
    mqttPacket.generate({ cmd: 'pubcomp', messageId: 65535 }, { protocolVersion: 4 }),
    mqttPacket.generate({ cmd: 'puback', messageId: 300, reasonCode: 0x10 }, { protocolVersion: 5 }),
    mqttPacket.generate({ cmd: 'pingreq' }, { protocolVersion: 4 }),
  ]
  const all = Buffer.concat(frames)
  const decoder = new MqttDecoder(1024)
  const packets = [...decoder.push(all.subarray(0, 3)), ...decoder.push(all.subarray(3))].map((p) => p.packet)
  assert.equal(packets.length, 4)
  assert.deepEqual(
    { cmd: packets[0]!.cmd, id: (packets[0] as { messageId?: number }).messageId },
    { cmd: 'puback', id: 1 },
  )
  assert.deepEqual(
    { cmd: packets[1]!.cmd, id: (packets[1] as { messageId?: number }).messageId },
    { cmd: 'pubcomp', id: 65535 },
  )
  // A v5 PUBACK with a reason code is longer than 4 bytes: parsed by mqtt-packet (protocol level from CONNECT
  // is unknown to a bare decoder, so only its command and id are compared).
  assert.equal(packets[2]!.cmd, 'puback')
  assert.equal(packets[3]!.cmd, 'pingreq')
})
