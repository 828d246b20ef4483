// A parsed selector compiled once into closures. Three-valued: every node yields a value or null (SQL
// unknown); the selector selects a message only when the whole evaluates to TRUE. Numbers: longs and exact
// literals are bigints (64-bit, wrapping like Java's long), int-like properties and approximate values JS
// numbers; a mix compares and computes as doubles (exact for ints), and so does every division. Only like types compare: a string with a number, or a boolean with
// anything else, is unknown — unless `convertStringExpressions` (STOMP, whose headers are all strings),
// where a string that reads as a number (or as true/false) is converted first, as ActiveMQ and Artemis do
// for STOMP subscriptions.
import type { ArithmeticOp, ComparisonOp, Node } from './ast.js'
import { compileLike } from './like.js'
import { readerOf, type SelectorContext, type Value } from './message.js'

export type Evaluator = (ctx: SelectorContext) => Value

const LONG_MIN = -(2n ** 63n)
const LONG_MAX = 2n ** 63n - 1n
const INTEGER = /^\s*[+-]?\d+\s*$/
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/

function isNumber(v: Value): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint'
}

/** A string header's number (exact when it is an integer in the long range), or null. */
export function numberOf(text: string): number | bigint | null {
  if (INTEGER.test(text)) {
    const big = BigInt(text.trim())
    if (big >= LONG_MIN && big <= LONG_MAX) return big
    return Number(big)
  }
  return DECIMAL.test(text) ? Number(text) : null
}

function booleanOf(text: string): boolean | null {
  const lower = text.toLowerCase()
  return lower === 'true' ? true : lower === 'false' ? false : null
}

export function compile(node: Node, convert: boolean): Evaluator {
  switch (node.kind) {
    case 'literal': {
      const value = node.value
      return () => value
    }
    case 'ident':
      return readerOf(node.name)
    case 'and': {
      const left = condition(compile(node.left, convert), convert)
      const right = condition(compile(node.right, convert), convert)
      return (ctx) => {
        const l = left(ctx)
        if (l === false) return false
        const r = right(ctx)
        if (r === false) return false
        return l === null || r === null ? null : true
      }
    }
    case 'or': {
      const left = condition(compile(node.left, convert), convert)
      const right = condition(compile(node.right, convert), convert)
      return (ctx) => {
        const l = left(ctx)
        if (l === true) return true
        const r = right(ctx)
        if (r === true) return true
        return l === null || r === null ? null : false
      }
    }
    case 'not': {
      const operand = condition(compile(node.operand, convert), convert)
      return (ctx) => {
        const v = operand(ctx)
        return v === null ? null : !v
      }
    }
    case 'neg':
    case 'pos': {
      const operand = numeric(compile(node.operand, convert), convert)
      if (node.kind === 'pos') return operand
      return (ctx) => {
        const v = operand(ctx)
        if (typeof v === 'bigint') return BigInt.asIntN(64, -v)
        return typeof v === 'number' ? -v : null
      }
    }
    case 'compare': {
      const left = compile(node.left, convert)
      const right = compile(node.right, convert)
      const op = node.op
      return (ctx) => compare(op, left(ctx), right(ctx), convert)
    }
    case 'arith': {
      const left = compile(node.left, convert)
      const right = compile(node.right, convert)
      const op = node.op
      return (ctx) => arithmetic(op, left(ctx), right(ctx), convert)
    }
    case 'like': {
      const operand = compile(node.operand, convert)
      const matcher = compileLike(node.pattern, node.escape)
      const negated = node.negated
      return (ctx) => {
        const v = operand(ctx)
        return typeof v === 'string' ? matcher(v) !== negated : null
      }
    }
    case 'in': {
      const operand = compile(node.operand, convert)
      const values = new Set(node.values)
      const negated = node.negated
      return (ctx) => {
        const v = operand(ctx)
        return typeof v === 'string' ? values.has(v) !== negated : null
      }
    }
    case 'between': {
      const operand = compile(node.operand, convert)
      const low = compile(node.low, convert)
      const high = compile(node.high, convert)
      const negated = node.negated
      return (ctx) => {
        const v = operand(ctx)
        const above = compare('>=', v, low(ctx), convert)
        if (above === false) return negated
        const below = compare('<=', v, high(ctx), convert)
        if (below === false) return negated
        return above === null || below === null ? null : !negated
      }
    }
    case 'isNull': {
      const operand = compile(node.operand, convert)
      const negated = node.negated
      return (ctx) => (operand(ctx) === null) !== negated
    }
  }
}

/** A whole selector: a condition, so a bare identifier holding 'true' counts under conversion. */
export function compileCondition(node: Node, convert: boolean): Evaluator {
  return condition(compile(node, convert), convert)
}

/** A value in a condition's place: booleans stay, anything else is unknown (converted strings aside). */
function condition(evaluate: Evaluator, convert: boolean): Evaluator {
  return (ctx) => {
    const v = evaluate(ctx)
    if (typeof v === 'boolean' || v === null) return v
    return convert && typeof v === 'string' ? booleanOf(v) : null
  }
}

/** A value in an arithmetic place: numbers stay, converted strings become numbers, the rest unknown. */
function numeric(evaluate: Evaluator, convert: boolean): Evaluator {
  return (ctx) => {
    const v = evaluate(ctx)
    if (isNumber(v)) return v
    return convert && typeof v === 'string' ? numberOf(v) : null
  }
}

/** Brings a string to its partner's type (convertStringExpressions); null when it does not read as one. */
function converted(v: Value, other: Value): Value {
  if (typeof v !== 'string') return v
  if (isNumber(other)) return numberOf(v)
  if (typeof other === 'boolean') return booleanOf(v)
  return v
}

export function compare(op: ComparisonOp, a: Value, b: Value, convert: boolean): boolean | null {
  if (a === null || b === null) return null
  if (convert) {
    const a2 = converted(a, b)
    b = converted(b, a)
    a = a2
    if (a === null || b === null) return null
  }
  if (isNumber(a) && isNumber(b)) {
    // Mixed exact and approximate: both as doubles (Java's numeric promotion).
    if (typeof a !== typeof b) {
      a = Number(a)
      b = Number(b)
    }
    switch (op) {
      case '=':
        return a === b
      case '<>':
        return a !== b
      case '<':
        return a < b
      case '<=':
        return a <= b
      case '>':
        return a > b
      case '>=':
        return a >= b
    }
  }
  if (typeof a !== typeof b || typeof a === 'number' || typeof a === 'bigint') return null
  // Strings and booleans compare for equality only.
  if (op === '=') return a === b
  if (op === '<>') return a !== b
  return null
}

function arithmetic(op: ArithmeticOp, a: Value, b: Value, convert: boolean): Value {
  if (a === null || b === null) return null
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b
  if (convert) {
    if (typeof a === 'string') a = numberOf(a)
    if (typeof b === 'string') b = numberOf(b)
  }
  if (!isNumber(a) || !isNumber(b)) return null
  // Division is always approximate (123 / 2 = 61.5, as in ActiveMQ and Artemis); + - * of two exact
  // numbers stay exact.
  if (typeof a === 'bigint' && typeof b === 'bigint' && op !== '/') {
    if (op === '+') return BigInt.asIntN(64, a + b)
    if (op === '-') return BigInt.asIntN(64, a - b)
    return BigInt.asIntN(64, a * b)
  }
  const x = Number(a)
  const y = Number(b)
  switch (op) {
    case '+':
      return x + y
    case '-':
      return x - y
    case '*':
      return x * y
    case '/':
      return x / y
  }
}
