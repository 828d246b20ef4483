// JSON Schema `pattern` and `patternProperties` run through RE2 (re2js, pure JS) instead of the
// backtracking RegExp engine: RE2 matches in time linear in the input, so a pattern like ^(a+)+$ cannot
// hold the event loop on a crafted record. Patterns are ECMAScript regular expressions (JSON Schema says
// so); toRe2 rewrites the ECMAScript-only syntax RE2 spells differently (\uXXXX, \cX, and the meaning of
// '.', \s and \S). RE2 has no lookaround or backreferences: a schema using them is refused at
// registration as an invalid schema rather than evaluated with a super-linear engine.
import { RE2JS } from 're2js'

export interface LinearRegExp {
  test(input: string): boolean
  toString(): string
}

/** ECMAScript's \s: WhiteSpace and LineTerminator code points, as RE2 class contents. */
const space =
  '\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}'
/** ECMAScript's '.' without the s flag: anything but a line terminator. */
const dot = '[^\\n\\r\\x{2028}\\x{2029}]'

function isHex(text: string): boolean {
  return /^[0-9a-fA-F]+$/.test(text)
}

/** The pattern in RE2 syntax, with ECMAScript meaning. Unknown constructs pass through for RE2 to judge. */
export function toRe2(pattern: string): string {
  let out = ''
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '\\') {
      const next = pattern[i + 1]
      if (next === 'u' && pattern[i + 2] === '{') {
        const close = pattern.indexOf('}', i + 3)
        const hex = close === -1 ? '' : pattern.slice(i + 3, close)
        if (isHex(hex)) {
          out += `\\x{${hex}}`
          i = close
          continue
        }
      } else if (next === 'u' && isHex(pattern.slice(i + 2, i + 6)) && pattern.length >= i + 6) {
        out += `\\x{${pattern.slice(i + 2, i + 6)}}`
        i += 5
        continue
      } else if (next === 'c' && /^[A-Za-z]$/.test(pattern[i + 2] ?? '')) {
        out += `\\x{${(pattern.charCodeAt(i + 2) % 32).toString(16)}}`
        i += 2
        continue
      } else if (next === 's') {
        out += inClass ? space : `[${space}]`
        i++
        continue
      } else if (next === 'S' && !inClass) {
        out += `[^${space}]`
        i++
        continue
      }
      out += c + (next ?? '')
      i++
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
      out += c
      continue
    }
    if (c === '[') {
      // ECMAScript's [^] is any character and [] none; RE2 reads both as unterminated.
      if (pattern.startsWith('[^]', i)) {
        out += '(?s:.)'
        i += 2
        continue
      }
      if (pattern.startsWith('[]', i)) {
        out += '[^\\x{0}-\\x{10FFFF}]'
        i += 1
        continue
      }
      inClass = true
      out += c
      // A ']' right after '[' or '[^' is a literal in RE2 but ends an empty class in ECMAScript.
      if (pattern[i + 1] === '^') {
        out += '^'
        i++
      }
      continue
    }
    out += c === '.' ? dot : c
  }
  return out
}

/** ajv's `code.regExp` engine: (pattern, flags) → an object with test(); `code` names it for standalone output. */
export const linearRegExp = Object.assign(
  (pattern: string, _flags: string): LinearRegExp => {
    let compiled: RE2JS
    try {
      compiled = RE2JS.compile(toRe2(pattern))
    } catch (error) {
      throw new Error(`pattern ${JSON.stringify(pattern.slice(0, 64))}: ${(error as Error).message}`)
    }
    // ajv caches compiled patterns by toString(), so it must tell patterns apart.
    return { test: (input: string) => compiled.test(input), toString: () => `re2:${pattern}` }
  },
  { code: 'linearRegExp' },
)
