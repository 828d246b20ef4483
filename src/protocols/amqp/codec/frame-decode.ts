// Payload decoders for method and content header frames, dispatching on the generated tables.
import { Reader } from './buffers.js'
import { AmqpCodecReplyCode, AmqpFrameError, frameError } from './errors.js'
import { ClassId } from './generated/constants.js'
import { METHODS_BY_ID } from './generated/methods.js'
import { decodeBasicProperties } from './generated/properties.js'
import type { AmqpMethod, BasicProperties } from './generated/types.js'

/** Decodes a method frame payload; errors carry the class and method ids for connection.close. */
export function decodeMethodFrame(payload: Buffer): AmqpMethod {
  if (payload.length < 4) throw frameError(`method frame of ${payload.length} bytes has no class and method id`)
  const classId = payload.readUInt16BE(0)
  const methodId = payload.readUInt16BE(2)
  const info = METHODS_BY_ID.get((classId << 16) | methodId)
  if (info === undefined) {
    throw new AmqpFrameError(
      AmqpCodecReplyCode.NOT_IMPLEMENTED,
      `unknown method ${classId}.${methodId}`,
      classId,
      methodId,
    )
  }
  const reader = new Reader(payload, 4)
  try {
    const args = info.decode(reader)
    reader.done(info.name)
    return { name: info.name, classId, methodId, args } as AmqpMethod
  } catch (error) {
    if (!(error instanceof AmqpFrameError)) throw error
    throw new AmqpFrameError(error.replyCode, `${info.name}: ${error.message}`, classId, methodId)
  }
}

export interface ContentHeader {
  classId: number
  bodySize: number
  properties: BasicProperties
}

/** Decodes a content header frame payload (class basic; 0-9-1 has no other content class). */
export function decodeContentHeader(payload: Buffer): ContentHeader {
  const reader = new Reader(payload)
  const classId = reader.short()
  if (classId !== ClassId.BASIC) {
    throw new AmqpFrameError(AmqpCodecReplyCode.COMMAND_INVALID, `content header for class ${classId}`, classId)
  }
  reader.short() // weight: unused
  const bodySize = reader.longlong()
  const properties = decodeBasicProperties(reader)
  reader.done('content header')
  return { classId, bodySize, properties }
}
