// noLocal: a topic subscriber may ask not to receive what its own connection published. The publishing
// connection is stamped on the message in a reserved header (so it survives storage and never reaches a
// client, as every `wharf.*` header), and the subscriber's side drops the messages that carry its own id.
import { headerValue, type PublishMessage, type RecordHeader, type StoredMessage } from '../message.js'

/** Reserved header: the owner (connection id) that published the message. */
export const PUBLISHER_HEADER = 'wharf.publisher'

/** The header to add to a publish by `owner`; cached per owner by the caller if it publishes often. */
export function publisherHeader(owner: string): RecordHeader {
  return { key: PUBLISHER_HEADER, value: Buffer.from(owner) }
}

/** The message with its publisher stamped (a header already there, e.g. forged, is replaced). */
export function stampPublisher(message: PublishMessage, header: RecordHeader): PublishMessage {
  const headers = (message.headers ?? []).filter((h) => h.key !== PUBLISHER_HEADER)
  headers.push(header)
  return { ...message, headers }
}

/** Whether `owner` published the message (compared as bytes: no decoding per delivery). */
export function publishedBy(message: StoredMessage, header: RecordHeader): boolean {
  const value = headerValue(message.headers, PUBLISHER_HEADER)
  return value != null && header.value !== null && value.equals(header.value)
}
