// JSON Schema `pattern` and `patternProperties` run through RE2 (re2js, pure JS) instead of the
// backtracking RegExp engine: RE2 matches in time linear in the input, so a pattern like ^(a+)+$ cannot
// hold the event loop on a crafted record. RE2 has no lookaround or backreferences; a schema using them
// is refused at registration as an invalid schema rather than evaluated with a super-linear engine.
import { RE2JS } from 're2js'

export interface LinearRegExp {
  test(input: string): boolean
  toString(): string
}

/** ajv's `code.regExp` engine: (pattern, flags) → an object with test(); `code` names it for standalone output. */
export const linearRegExp = Object.assign(
  (pattern: string, _flags: string): LinearRegExp => {
    let compiled: RE2JS
    try {
      compiled = RE2JS.compile(pattern)
    } catch (error) {
      throw new Error(`pattern ${JSON.stringify(pattern.slice(0, 64))}: ${(error as Error).message}`)
    }
    // ajv caches compiled patterns by toString(), so it must tell patterns apart.
    return { test: (input: string) => compiled.test(input), toString: () => `re2:${pattern}` }
  },
  { code: 'linearRegExp' },
)
