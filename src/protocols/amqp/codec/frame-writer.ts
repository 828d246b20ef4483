// Frame writers. Sizes are computed first so each call makes exactly one allocation: one per method
// frame, or one per whole message (method + content header + body frames) for publish/deliver.
import { assert } from '../../../util/assert.js'
import { WharfError } from '../../../util/errors.js'
import { Writer } from './buffers.js'
import { encodeError } from './errors.js'
import { checkFrameMax, FRAME_OVERHEAD_BYTES } from './frame-parser.js'
import { ClassId, FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD } from './generated/constants.js'
import { METHODS_BY_NAME, type MethodInfo } from './generated/methods.js'
import { encodeBasicProperties, sizeBasicProperties } from './generated/properties.js'
import type { BasicProperties, MethodInit, MethodName } from './generated/types.js'

/** class-id (2) + method-id (2) ahead of the arguments. */
const METHOD_IDS_BYTES = 4
/** class-id (2) + weight (2) + body-size (8) ahead of the property flags. */
const CONTENT_HEADER_FIXED_BYTES = 12

/** The heartbeat frame never changes; callers write this shared buffer and must not modify it. */
export const HEARTBEAT_FRAME: Buffer = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END])

function checkChannel(channel: number): void {
  if ((channel & 0xffff) !== channel) throw encodeError(`channel out of range: ${channel}`)
}

function frameStart(w: Writer, type: number, channel: number, size: number): void {
  w.buf[w.pos] = type
  w.buf.writeUInt16BE(channel, w.pos + 1)
  w.buf.writeUInt32BE(size, w.pos + 3)
  w.pos += 7
}

function frameEnd(w: Writer, payloadStart: number, size: number): void {
  // Pair assertion: the sizer and the encoder must agree, else the peer sees a corrupt frame.
  assert(w.pos - payloadStart === size, `frame payload wrote ${w.pos - payloadStart} bytes, sized ${size}`)
  w.buf[w.pos++] = FRAME_END
}

function checkFits(frameSize: number, frameMax: number | undefined, what: string): void {
  if (frameMax !== undefined && frameSize > frameMax) {
    throw new WharfError('LIMIT_EXCEEDED', `${what} frame of ${frameSize} bytes exceeds frame-max ${frameMax}`)
  }
}

function writeMethodFrame(w: Writer, channel: number, info: MethodInfo, args: unknown, argsSize: number): void {
  const size = METHOD_IDS_BYTES + argsSize
  frameStart(w, FRAME_METHOD, channel, size)
  const start = w.pos
  w.buf.writeUInt16BE(info.classId, w.pos)
  w.buf.writeUInt16BE(info.methodId, w.pos + 2)
  w.pos += METHOD_IDS_BYTES
  ;(info.encode as (writer: Writer, args: unknown) => void)(w, args)
  frameEnd(w, start, size)
}

/** One method frame. `frameMax`, when given, rejects a frame the peer would refuse. */
export function encodeMethodFrame<N extends MethodName>(
  channel: number,
  name: N,
  args: MethodInit[N],
  frameMax?: number,
): Buffer {
  checkChannel(channel)
  const info = METHODS_BY_NAME[name] as MethodInfo | undefined
  assert(info !== undefined, `unknown AMQP method ${name}`)
  const argsSize = (info.size as (args: unknown) => number)(args)
  const frameSize = FRAME_OVERHEAD_BYTES + METHOD_IDS_BYTES + argsSize
  checkFits(frameSize, frameMax, name)
  const w = new Writer(Buffer.allocUnsafe(frameSize))
  writeMethodFrame(w, channel, info, args, argsSize)
  return w.buf
}

function writeContentHeader(
  w: Writer,
  channel: number,
  bodySize: number,
  properties: BasicProperties,
  size: number,
): void {
  frameStart(w, FRAME_HEADER, channel, size)
  const start = w.pos
  w.short(ClassId.BASIC)
  w.short(0) // weight: unused, must be zero
  w.longlong(bodySize)
  encodeBasicProperties(w, properties)
  frameEnd(w, start, size)
}

/** A content header frame for class basic (the only class with content in 0-9-1). */
export function encodeContentHeaderFrame(channel: number, bodySize: number, properties: BasicProperties): Buffer {
  checkChannel(channel)
  const size = CONTENT_HEADER_FIXED_BYTES + sizeBasicProperties(properties)
  const w = new Writer(Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES + size))
  writeContentHeader(w, channel, bodySize, properties, size)
  return w.buf
}

function bodyFramesSize(bodyLength: number, frameMax: number): number {
  const frames = Math.ceil(bodyLength / (frameMax - FRAME_OVERHEAD_BYTES))
  return bodyLength + frames * FRAME_OVERHEAD_BYTES
}

function writeBodyFrames(w: Writer, channel: number, body: Buffer, frameMax: number): void {
  const chunkMax = frameMax - FRAME_OVERHEAD_BYTES
  for (let offset = 0; offset < body.length; offset += chunkMax) {
    const size = Math.min(chunkMax, body.length - offset)
    frameStart(w, FRAME_BODY, channel, size)
    body.copy(w.buf, w.pos, offset, offset + size)
    w.pos += size
    w.buf[w.pos++] = FRAME_END
  }
}

/** Body frames of at most frame-max − 8 payload bytes each; an empty body has no body frames. */
export function encodeBodyFrames(channel: number, body: Buffer, frameMax: number): Buffer {
  checkChannel(channel)
  checkFrameMax(frameMax)
  const w = new Writer(Buffer.allocUnsafe(bodyFramesSize(body.length, frameMax)))
  writeBodyFrames(w, channel, body, frameMax)
  assert(w.pos === w.buf.length, 'body frames sized wrong')
  return w.buf
}

/** Names of the methods that carry content (basic.publish, basic.return, basic.deliver, basic.get-ok). */
export type ContentMethodName = 'basic.publish' | 'basic.return' | 'basic.deliver' | 'basic.get-ok'

/** A whole message in one buffer: method frame, content header frame, body frames. */
export function encodeMessage<N extends ContentMethodName>(
  channel: number,
  name: N,
  args: MethodInit[N],
  properties: BasicProperties,
  body: Buffer,
  frameMax: number,
): Buffer {
  checkChannel(channel)
  checkFrameMax(frameMax)
  const info = METHODS_BY_NAME[name] as MethodInfo
  assert(info.hasContent, `${name} carries no content`)
  const argsSize = (info.size as (args: unknown) => number)(args)
  const headerSize = CONTENT_HEADER_FIXED_BYTES + sizeBasicProperties(properties)
  checkFits(FRAME_OVERHEAD_BYTES + METHOD_IDS_BYTES + argsSize, frameMax, name)
  checkFits(FRAME_OVERHEAD_BYTES + headerSize, frameMax, 'content header')
  const total =
    FRAME_OVERHEAD_BYTES * 2 + METHOD_IDS_BYTES + argsSize + headerSize + bodyFramesSize(body.length, frameMax)
  const w = new Writer(Buffer.allocUnsafe(total))
  writeMethodFrame(w, channel, info, args, argsSize)
  writeContentHeader(w, channel, body.length, properties, headerSize)
  writeBodyFrames(w, channel, body, frameMax)
  assert(w.pos === total, 'message frames sized wrong')
  return w.buf
}
