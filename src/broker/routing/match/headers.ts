// RabbitMQ headers exchange matching (rabbit_exchange_type_headers:headers_match). The binding's
// arguments are the pattern; `x-match` selects all (default) | any | all-with-x | any-with-x.
// Arguments whose name starts with "x-" are ignored unless the mode ends in -with-x (x-match itself
// is never a pattern entry). A binding value of undefined or null (AMQP void) asks only for the
// header's presence. Values compare by value: AMQP integer widths differ on the wire (amqplib sends
// the smallest signed type), so 1 as int8, int32, int64 (bigint) or double are all equal.
// An "all" binding with no eligible arguments matches everything; an "any" one matches nothing.

export type HeadersMatchMode = 'all' | 'any' | 'all-with-x' | 'any-with-x'

/** The x-match mode of a binding; unknown values fall back to "all" as RabbitMQ's parser does. */
export function headersMatchMode(bindingArgs: Record<string, unknown>): HeadersMatchMode {
  const mode = bindingArgs['x-match']
  const text =
    typeof mode === 'string' ? mode : mode instanceof Uint8Array ? Buffer.from(mode).toString('utf8') : undefined
  return text === 'any' || text === 'all-with-x' || text === 'any-with-x' ? text : 'all'
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

/** AMQP field-value equality by value (Erlang ==): numbers across widths, bytes, arrays, tables. */
export function amqpValueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true
  const ta = typeof a
  const tb = typeof b
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) {
    // == compares a bigint and a number by mathematical value without precision loss.
    // biome-ignore lint/suspicious/noDoubleEquals: deliberate cross-type numeric comparison
    return (a as number) == (b as number)
  }
  if (ta !== 'object' || tb !== 'object' || a === null || b === null) return false
  if (isBytes(a) || isBytes(b)) return isBytes(a) && isBytes(b) && Buffer.compare(a, b) === 0
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!amqpValueEquals(a[i], b[i])) return false
    return true
  }
  // Field tables: same keys, equal values.
  const tableA = a as Record<string, unknown>
  const tableB = b as Record<string, unknown>
  const keys = Object.keys(tableA)
  if (keys.length !== Object.keys(tableB).length) return false
  for (const key of keys) {
    if (!Object.hasOwn(tableB, key) || !amqpValueEquals(tableA[key], tableB[key])) return false
  }
  return true
}

/** Whether a message with messageHeaders matches a headers-exchange binding with bindingArgs. */
export function matchHeaders(
  bindingArgs: Record<string, unknown>,
  messageHeaders: Record<string, unknown> | undefined,
): boolean {
  const mode = headersMatchMode(bindingArgs)
  const any = mode === 'any' || mode === 'any-with-x'
  const withX = mode === 'all-with-x' || mode === 'any-with-x'
  for (const key in bindingArgs) {
    if (!Object.hasOwn(bindingArgs, key) || key === 'x-match') continue
    if (!withX && key.startsWith('x-')) continue
    const expected = bindingArgs[key]
    const present =
      messageHeaders !== undefined && Object.hasOwn(messageHeaders, key) && messageHeaders[key] !== undefined
    const matched =
      present && (expected === undefined || expected === null || amqpValueEquals(expected, messageHeaders[key]))
    if (any && matched) return true
    if (!any && !matched) return false
  }
  return !any
}
