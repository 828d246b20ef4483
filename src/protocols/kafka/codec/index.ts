// Kafka wire codec (sans-I/O): generated message codecs plus the reader, writer, framing and API table.
export { type ApiDefinition, apiVersionsKey, defineApi, type KafkaApi } from './api.js'
export {
  type DecodedRequest,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameSplitter,
  frameBytesMaxDefault,
  readRequest,
} from './frame.js'
export * from './generated/index.js'
export { Reader } from './reader.js'
export { EMPTY_BYTES, ZERO_UUID } from './runtime.js'
export { type Records, refBytesMin, Writer } from './writer.js'
