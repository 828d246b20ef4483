// Tokens of a selector: identifiers (plain, or double-quoted for names such as STOMP's `content-type`),
// keywords (case-insensitive), string literals with '' for a quote, exact numbers (decimal, 0x hex, 0 octal,
// optional L suffix, as ActiveMQ reads them), approximate numbers (Java floating-point syntax), operators,
// and `--` / `/* */` comments. One pass, no backtracking.
import { KEYWORDS } from './ast.js'
import { SelectorError } from './errors.js'

export type Token =
  | { type: 'ident'; text: string; at: number }
  | { type: 'keyword'; text: string; at: number }
  | { type: 'string'; text: string; at: number }
  | { type: 'exact'; text: string; value: bigint | number; at: number }
  | { type: 'approx'; text: string; value: number; at: number }
  | { type: 'op'; text: string; at: number }
  | { type: 'end'; text: ''; at: number }

const LONG_MIN = -(2n ** 63n)
const LONG_MAX = 2n ** 63n - 1n

const IDENT_START = /[\p{L}_$]/u
const IDENT_PART = /[\p{L}\p{N}_$]/u
const DIGIT = /[0-9]/
const HEX = /^0[xX][0-9a-fA-F]+[lL]?/
const APPROX = /^(?:[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)[dDfF]?/
const DECIMAL = /^[0-9]+[lL]?/

/** An exact literal's value: a bigint in the long range, else a double (as ActiveMQ falls back to). */
export function exactValue(text: string, negative: boolean): bigint | number {
  const digits = text.replace(/[lL]$/, '')
  let big: bigint
  if (/^0[xX]/.test(digits)) big = BigInt(digits)
  else if (digits.length > 1 && digits.startsWith('0')) big = BigInt(`0o${digits.slice(1)}`)
  else big = BigInt(digits)
  if (negative) big = -big
  return big >= LONG_MIN && big <= LONG_MAX ? big : Number(big)
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++
      continue
    }
    if (c === '-' && text[i + 1] === '-') {
      const eol = text.indexOf('\n', i)
      i = eol < 0 ? n : eol + 1
      continue
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2)
      if (close < 0) throw new SelectorError('unterminated comment', i)
      i = close + 2
      continue
    }
    const at = i
    if (c === "'" || c === '"') {
      // Strings in single quotes, quoted identifiers in double quotes; a doubled quote stands for itself.
      let out = ''
      i++
      for (;;) {
        const close = text.indexOf(c, i)
        if (close < 0) throw new SelectorError(c === "'" ? 'unterminated string' : 'unterminated identifier', at)
        out += text.slice(i, close)
        if (text[close + 1] === c) {
          out += c
          i = close + 2
          continue
        }
        i = close + 1
        break
      }
      if (c === '"' && out.length === 0) throw new SelectorError('empty quoted identifier', at)
      tokens.push({ type: c === "'" ? 'string' : 'ident', text: out, at })
      continue
    }
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(text[i + 1] ?? ''))) {
      const rest = text.slice(i, i + 400)
      const hex = HEX.exec(rest)
      const approx = hex === null ? APPROX.exec(rest) : null
      const decimal = hex === null && approx === null ? DECIMAL.exec(rest) : null
      const match = hex ?? approx ?? decimal!
      const literal = match[0]
      i += literal.length
      if (i < n && IDENT_PART.test(text[i]!)) throw new SelectorError(`malformed number '${literal}${text[i]}'`, at)
      if (approx !== null) {
        const value = Number(literal.replace(/[dDfF]$/, ''))
        tokens.push({ type: 'approx', text: literal, value, at })
      } else {
        if (decimal !== null && literal.length > 1 && literal.startsWith('0') && /[89]/.test(literal))
          throw new SelectorError(`malformed octal number '${literal}'`, at)
        tokens.push({ type: 'exact', text: literal, value: exactValue(literal, false), at })
      }
      continue
    }
    if (IDENT_START.test(c)) {
      let j = i + 1
      while (j < n && IDENT_PART.test(text[j]!)) j++
      const word = text.slice(i, j)
      const upper = word.toUpperCase()
      tokens.push(KEYWORDS.has(upper) ? { type: 'keyword', text: upper, at } : { type: 'ident', text: word, at })
      i = j
      continue
    }
    const two = text.slice(i, i + 2)
    if (two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ type: 'op', text: two, at })
      i += 2
      continue
    }
    if ('=<>+-*/(),'.includes(c)) {
      tokens.push({ type: 'op', text: c, at })
      i++
      continue
    }
    throw new SelectorError(`unexpected character '${c}'`, at)
  }
  tokens.push({ type: 'end', text: '', at: n })
  return tokens
}
