// Request parameter checks shared by the SQS actions: numbers in range, string maps and lists, ids,
// batch entries and their per-entry failures, and NextToken paging. Each throws the SqsError AWS answers.
import { SqsError } from './errors.js'
import type { Input, Output } from './state.js'

export const BATCH_MAX = 10
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/
const LIST_MAX = 1000

export function intParam(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new SqsError(
      'InvalidParameterValue',
      `Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    )
  }
  return n
}

export function stringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SqsError('InvalidParameterValue', `${name} must be a map of strings`)
  for (const v of Object.values(value))
    if (typeof v !== 'string') throw new SqsError('InvalidParameterValue', `${name} must be a map of strings`)
  return { ...(value as Record<string, string>) }
}

export function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new SqsError('InvalidParameterValue', `${name} must be a list of strings`)
  return value as string[]
}

export function optionalId(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(value))
    throw new SqsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid.`)
  return value
}

export function batchEntries(value: unknown): Input[] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    throw new SqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.')
  }
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'object' || e === null))
    throw new SqsError('InvalidParameterValue', 'Entries must be a list of objects')
  if (value.length > BATCH_MAX)
    throw new SqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${BATCH_MAX}. You have sent ${value.length}.`,
    )
  const ids = new Set<string>()
  for (const entry of value as Input[]) {
    if (typeof entry.Id !== 'string' || !BATCH_ID.test(entry.Id))
      throw new SqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      )
    if (ids.has(entry.Id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${entry.Id} repeated.`)
    ids.add(entry.Id)
  }
  return value as Input[]
}

export function batchFailure(id: string, error: SqsError): Output {
  return { Id: id, SenderFault: error.fault === 'Sender', Code: error.errorName, Message: error.message }
}

/** One page of sorted names as URLs; NextToken is the last name given, so paging survives inserts. */
export function page(names: string[], input: Input, url: (name: string) => string, field: string): Output {
  const max = input.MaxResults === undefined ? undefined : intParam(input.MaxResults, 'MaxResults', 1, LIST_MAX)
  let start = 0
  if (input.NextToken !== undefined) {
    const after = typeof input.NextToken === 'string' ? Buffer.from(input.NextToken, 'base64url').toString('utf8') : ''
    if (after === '') throw new SqsError('InvalidParameterValue', 'Invalid NextToken')
    start = names.findIndex((n) => n > after)
    if (start < 0) start = names.length
  }
  const slice = names.slice(start, start + (max ?? LIST_MAX))
  const out: Output = { [field]: slice.map(url) }
  if (max !== undefined && start + slice.length < names.length)
    out.NextToken = Buffer.from(slice[slice.length - 1]!).toString('base64url')
  return out
}
