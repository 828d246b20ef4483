// SASL PLAIN (RFC 4616): one message, [authzid] NUL authcid NUL passwd, UTF-8.

export interface PlainCredentials {
  /** The identity to act as; empty when the client asks for its own (the only one Wharf grants). */
  authzid: string
  authcid: string
  password: string
}

/** The three fields of a PLAIN message, or undefined when it is not one (wrong field count, empty name or password). */
export function parsePlain(message: Buffer): PlainCredentials | undefined {
  const parts = message.toString('utf8').split('\u0000')
  if (parts.length !== 3) return undefined
  const [authzid, authcid, password] = parts as [string, string, string]
  if (authcid === '' || password === '') return undefined
  return { authzid, authcid, password }
}
