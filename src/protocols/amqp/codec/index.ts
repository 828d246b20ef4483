// AMQP 0-9-1 codec: sans-I/O framing, generated method/property codecs, RabbitMQ field tables.
export { longstrSize, Reader, shortstrSize, Writer } from './buffers.js'
export {
  AmqpCodecReplyCode,
  AmqpFrameError,
  AmqpProtocolHeaderError,
} from './errors.js'
export {
  AmqpTyped,
  type Decimal,
  decodeFieldTable,
  encodeFieldTable,
  FIELD_NESTING_DEPTH_MAX,
  type FieldTable,
  type FieldType,
  type FieldValue,
  letterOf,
  typed,
} from './field-table.js'
export { type ContentHeader, decodeContentHeader, decodeMethodFrame } from './frame-decode.js'
export {
  type AmqpFrame,
  AmqpFrameParser,
  FRAME_MAX_CEILING,
  FRAME_MAX_FLOOR,
  FRAME_OVERHEAD_BYTES,
  type FrameParserOptions,
  type FrameType,
} from './frame-parser.js'
export {
  type ContentMethodName,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeMessage,
  encodeMethodFrame,
  HEARTBEAT_FRAME,
} from './frame-writer.js'
export * from './generated/constants.js'
export { METHODS_BY_ID, METHODS_BY_NAME, type MethodInfo } from './generated/methods.js'
export { BASIC_PROPERTY_FLAGS } from './generated/properties.js'
export type * from './generated/types.js'
