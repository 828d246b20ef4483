// SNS subscription filter policies, compiled once at Subscribe/SetSubscriptionAttributes time and
// evaluated per publish. Semantics follow the AWS SNS documentation ("Amazon SNS message
// filtering"), with LocalStack's filter.py as the behavioural oracle:
// - AND across keys, OR within a key's array, `$or` (an array of sub-policies) at any level;
// - MessageAttributes scope: flat keys = attribute names; String.Array attributes match when any
//   element matches; Number attributes match numeric conditions and numeric exact values; Binary
//   attributes only satisfy `exists`;
// - MessageBody scope: nested objects follow the JSON body; arrays anywhere on the path match when
//   any element matches; objects are not leaf values (so `exists` needs a scalar or array);
// - a key that is absent matches only `{"exists": false}`.
// Limits (AWS "Filter policy constraints", counted as LocalStack does): at most 5 top-level keys,
// at most 150 value combinations, 256 KiB of policy JSON. Not supported: IPv6 `cidr`, and the
// undocumented AWS quirk where a body key "a.b" also matches {"a": {"b": ...}}.
import { WharfError } from '../../util/errors.js'
import { parseIpv4, parseIpv4Cidr } from './ipv4.js'

export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody'

export interface MessageAttributeValue {
  DataType: string
  StringValue?: string
  BinaryValue?: unknown
}
export type MessageAttributes = Record<string, MessageAttributeValue>

export interface FilterPolicy {
  readonly scope: FilterPolicyScope
  /** Attributes map (MessageAttributes scope) or the parsed JSON body / its text (MessageBody scope). */
  matches(input: unknown): boolean
}

export const filterPolicyKeysMax = 5
export const filterPolicyCombinationsMax = 150
export const filterPolicyBytesMax = 256 * 1024

type Scalar = string | number | boolean | null

type Condition =
  | { kind: 'equals'; value: Scalar }
  | { kind: 'prefix' | 'suffix' | 'equals-ignore-case'; value: string }
  | { kind: 'anything-but'; values: Scalar[] }
  | { kind: 'anything-but-text'; inner: Condition }
  | { kind: 'numeric'; lower: number; lowerInclusive: boolean; upper: number; upperInclusive: boolean }
  | { kind: 'exists'; value: boolean }
  | { kind: 'cidr'; network: number; mask: number }

interface Leaf {
  path: string[]
  conditions: Condition[]
  /** Whether {"exists": false} is among the conditions: then an absent key matches. */
  absentMatches: boolean
  /** Whether {"exists": true} is among the conditions: then any present attribute matches. */
  presentMatches: boolean
}

/** AND of leaves and of each OR group; an OR group matches when any alternative does. */
interface Conjunction {
  leaves: Leaf[]
  ors: Conjunction[][]
}

function invalid(reason: string): never {
  throw new WharfError('INVALID_ARGUMENT', `Invalid filter policy: ${reason}`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isScalar(value: unknown): value is Scalar {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  )
}

const numericOperators = new Set(['<', '<=', '=', '>', '>='])

function compileNumeric(terms: unknown): Condition {
  if (!Array.isArray(terms) || terms.length === 0 || terms.length % 2 !== 0 || terms.length > 4) {
    invalid('numeric match needs one or two (operator, number) pairs')
  }
  const condition = {
    kind: 'numeric' as const,
    lower: -Infinity,
    lowerInclusive: false,
    upper: Infinity,
    upperInclusive: false,
  }
  for (let i = 0; i < terms.length; i += 2) {
    const operator = terms[i]
    const operand = terms[i + 1]
    if (typeof operator !== 'string' || !numericOperators.has(operator))
      invalid(`unrecognized numeric operator: ${String(operator)}`)
    if (typeof operand !== 'number' || !Number.isFinite(operand)) invalid(`value of ${operator} must be numeric`)
    if (i === 2 && !(terms[0] === '>' || terms[0] === '>=')) invalid('a numeric range starts with > or >=')
    if (i === 2 && operator !== '<' && operator !== '<=') invalid('a numeric range ends with < or <=')
    if (operator === '=') {
      if (terms.length !== 2) invalid('numeric = takes one value')
      return { ...condition, lower: operand, lowerInclusive: true, upper: operand, upperInclusive: true }
    }
    if (operator === '>' || operator === '>=') {
      condition.lower = operand
      condition.lowerInclusive = operator === '>='
    } else {
      condition.upper = operand
      condition.upperInclusive = operator === '<='
    }
  }
  if (terms.length === 4 && !(condition.lower < condition.upper)) invalid('numeric range bottom must be less than top')
  return condition
}

function compileTextOperator(operator: string, value: unknown): Condition {
  if (typeof value !== 'string') invalid(`${operator} match pattern must be a string`)
  if (operator === 'prefix' || operator === 'suffix') return { kind: operator, value }
  return { kind: 'equals-ignore-case', value: value.toLowerCase() }
}

function compileAnythingBut(value: unknown): Condition {
  if (isScalar(value)) return { kind: 'anything-but', values: [value] }
  if (Array.isArray(value)) {
    if (value.length === 0) invalid('anything-but list must not be empty')
    for (const item of value)
      if (!isScalar(item) || typeof item === 'boolean') invalid('anything-but list holds strings or numbers')
    return { kind: 'anything-but', values: value as Scalar[] }
  }
  if (isObject(value)) {
    const keys = Object.keys(value)
    const operator = keys[0]
    if (keys.length !== 1 || (operator !== 'prefix' && operator !== 'suffix' && operator !== 'equals-ignore-case')) {
      invalid(`unsupported anything-but pattern: ${keys.join(',')}`)
    }
    return { kind: 'anything-but-text', inner: compileTextOperator(operator, value[operator]) }
  }
  return invalid('anything-but takes a value, a list or a prefix/suffix/equals-ignore-case object')
}

function compileCondition(rule: unknown): Condition {
  if (isScalar(rule)) return { kind: 'equals', value: rule }
  if (!isObject(rule)) return invalid('match value must be a string, number, true, false, null or an operator object')
  const keys = Object.keys(rule)
  if (keys.length !== 1) invalid('only one key allowed in a match expression')
  const operator = keys[0] as string
  const value = rule[operator]
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      return compileTextOperator(operator, value)
    case 'anything-but':
      return compileAnythingBut(value)
    case 'numeric':
      return compileNumeric(value)
    case 'exists':
      if (typeof value !== 'boolean') invalid('exists match pattern must be either true or false')
      return { kind: 'exists', value }
    case 'cidr': {
      if (typeof value !== 'string') invalid('cidr match pattern must be a string')
      const cidr = parseIpv4Cidr(value)
      if (cidr === null) invalid(`malformed or unsupported (IPv4 only) CIDR: ${value}`)
      return { kind: 'cidr', network: cidr.network, mask: cidr.mask }
    }
    default:
      return invalid(`unrecognized match type ${operator}`)
  }
}

interface CompileState {
  scope: FilterPolicyScope
}

/** Compiles one (sub-)policy object; returns it with its AWS value-combination count. */
function compileObject(
  policy: Record<string, unknown>,
  prefix: string[],
  depth: number,
  combinations: number,
  state: CompileState,
): [Conjunction, number] {
  const conjunction: Conjunction = { leaves: [], ors: [] }
  for (const key of Object.keys(policy)) {
    const value = policy[key]
    if (key === '$or') {
      if (!Array.isArray(value) || value.length === 0) invalid('$or takes a non-empty array of policies')
      const alternatives: Conjunction[] = []
      let sum = 0
      for (const alternative of value) {
        if (!isObject(alternative)) invalid('$or alternatives must be objects')
        const [compiled, count] = compileObject(alternative, prefix, depth, combinations, state)
        alternatives.push(compiled)
        sum += count
      }
      conjunction.ors.push(alternatives)
      combinations = sum
    } else if (Array.isArray(value)) {
      if (value.length === 0) invalid(`"${key}": empty arrays are not allowed`)
      const conditions = value.map(compileCondition)
      const absentMatches = conditions.some((c) => c.kind === 'exists' && !c.value)
      const presentMatches = conditions.some((c) => c.kind === 'exists' && c.value)
      conjunction.leaves.push({ path: [...prefix, key], conditions, absentMatches, presentMatches })
      combinations *= value.length * depth
    } else if (isObject(value)) {
      if (state.scope === 'MessageAttributes')
        invalid('scope MessageAttributes does not support nested filter policies')
      const [nested, count] = compileObject(value, [...prefix, key], depth + 1, combinations, state)
      conjunction.leaves.push(...nested.leaves)
      conjunction.ors.push(...nested.ors)
      combinations = count
    } else {
      invalid(`"${key}" must be an object or an array`)
    }
  }
  return [conjunction, combinations]
}

/** Parses and validates a policy; throws WharfError('INVALID_ARGUMENT') with AWS-like reasons. */
export function compileFilterPolicy(policyJson: string | object, scope: FilterPolicyScope): FilterPolicy {
  let policy: unknown = policyJson
  if (typeof policyJson === 'string') {
    if (Buffer.byteLength(policyJson, 'utf8') > filterPolicyBytesMax)
      invalid(`larger than ${filterPolicyBytesMax} bytes`)
    try {
      policy = JSON.parse(policyJson)
    } catch {
      invalid('not valid JSON')
    }
  } else if (Buffer.byteLength(JSON.stringify(policyJson) ?? '', 'utf8') > filterPolicyBytesMax) {
    invalid(`larger than ${filterPolicyBytesMax} bytes`)
  }
  if (!isObject(policy)) invalid('must be a JSON object')
  if (Object.keys(policy).length > filterPolicyKeysMax) invalid(`can not have more than ${filterPolicyKeysMax} keys`)
  const [root, combinations] = compileObject(policy, [], 1, 1, { scope })
  if (combinations > filterPolicyCombinationsMax) invalid('too complex')
  return scope === 'MessageAttributes'
    ? { scope, matches: (input) => matchesAttributes(root, input) }
    : { scope, matches: (input) => matchesBody(root, input) }
}

function numberFromText(text: string): number {
  // Number('') and Number('  ') are 0; an empty attribute value is not a number.
  return text.trim() === '' ? Number.NaN : Number(text)
}

function matchesText(condition: Condition, value: string): boolean {
  if (condition.kind === 'prefix') return value.startsWith(condition.value)
  if (condition.kind === 'suffix') return value.endsWith(condition.value)
  return value.toLowerCase() === (condition as { value: string }).value
}

function scalarEquals(expected: Scalar, value: unknown): boolean {
  return expected === value // numbers compare numerically; strings, booleans and null exactly
}

/** Whether a present scalar value satisfies one condition. */
function evaluate(condition: Condition, value: unknown): boolean {
  switch (condition.kind) {
    case 'equals':
      return scalarEquals(condition.value, value)
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      return typeof value === 'string' && matchesText(condition, value)
    case 'anything-but':
      for (const excluded of condition.values) if (scalarEquals(excluded, value)) return false
      return true
    case 'anything-but-text':
      return typeof value !== 'string' || !matchesText(condition.inner, value)
    case 'numeric': {
      if (typeof value !== 'number' || Number.isNaN(value)) return false
      const aboveLower = condition.lowerInclusive ? value >= condition.lower : value > condition.lower
      const belowUpper = condition.upperInclusive ? value <= condition.upper : value < condition.upper
      return aboveLower && belowUpper
    }
    case 'exists':
      return condition.value
    case 'cidr': {
      if (typeof value !== 'string') return false
      const address = parseIpv4(value)
      return address !== null && (address & condition.mask) >>> 0 === condition.network
    }
  }
}

function anyCondition(leaf: Leaf, value: unknown): boolean {
  for (const condition of leaf.conditions) if (evaluate(condition, value)) return true
  return false
}

function matchesConjunction(conjunction: Conjunction, matchesLeaf: (leaf: Leaf) => boolean): boolean {
  for (const leaf of conjunction.leaves) if (!matchesLeaf(leaf)) return false
  for (const alternatives of conjunction.ors) {
    let any = false
    for (const alternative of alternatives) {
      if (matchesConjunction(alternative, matchesLeaf)) {
        any = true
        break
      }
    }
    if (!any) return false
  }
  return true
}

function matchesAttributes(root: Conjunction, input: unknown): boolean {
  const attributes = isObject(input) ? (input as MessageAttributes) : undefined
  return matchesConjunction(root, (leaf) => matchAttribute(leaf, attributes))
}

function matchAttribute(leaf: Leaf, attributes: MessageAttributes | undefined): boolean {
  const name = leaf.path[0] as string
  const attribute = attributes !== undefined && Object.hasOwn(attributes, name) ? attributes[name] : undefined
  if (attribute === undefined) return leaf.absentMatches
  if (leaf.presentMatches) return true
  const type = attribute.DataType ?? 'String'
  const text = attribute.StringValue ?? ''
  // Custom types keep their base type: "Number.float", "String.custom" [SQS/SNS attribute types].
  if (type.startsWith('String.Array')) {
    let values: unknown
    try {
      values = JSON.parse(text)
    } catch {
      return false // present but holds no values
    }
    if (!Array.isArray(values)) return false
    for (const value of values) if (anyCondition(leaf, value)) return true
    return false
  }
  if (type.startsWith('Number')) return anyCondition(leaf, numberFromText(text))
  if (type.startsWith('Binary')) return false // binary values are never compared
  return anyCondition(leaf, text)
}

/** Walk result: nothing reached on the path, reached but no condition held, or matched. */
const reachedNone = 0
const reachedNoMatch = 1
const reachedMatch = 2

function walkBody(node: unknown, leaf: Leaf, depth: number): number {
  if (Array.isArray(node)) {
    let result = reachedNone
    for (const item of node) {
      const r = walkBody(item, leaf, depth)
      if (r === reachedMatch) return r
      if (r > result) result = r
    }
    return result
  }
  if (depth === leaf.path.length) {
    if (isObject(node)) return reachedNone // objects are not leaf values
    return anyCondition(leaf, node) ? reachedMatch : reachedNoMatch
  }
  if (!isObject(node)) return reachedNone
  const key = leaf.path[depth] as string
  return Object.hasOwn(node, key) ? walkBody(node[key], leaf, depth + 1) : reachedNone
}

function matchesBody(root: Conjunction, input: unknown): boolean {
  let body = input
  if (typeof input === 'string') {
    try {
      body = JSON.parse(input)
    } catch {
      return false // body policies assume a JSON object payload
    }
  }
  if (!isObject(body)) return false
  return matchesConjunction(root, (leaf) => {
    const result = walkBody(body, leaf, 0)
    return result === reachedMatch || (result === reachedNone && leaf.absentMatches)
  })
}
