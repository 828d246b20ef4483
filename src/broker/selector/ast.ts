// The syntax tree of a JMS message selector, and its printer. The printer writes every compound operand in
// parentheses, so that printing a tree and parsing the text back gives the same tree (the fuzz test relies
// on it); it is also how a selector is shown in errors and admin listings.

/** A literal value: exact numbers are bigints (Java long), approximate ones numbers (Java double). */
export type Literal = string | bigint | number | boolean

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>='
export type ArithmeticOp = '+' | '-' | '*' | '/'

export type Node =
  | { kind: 'literal'; value: Literal }
  | { kind: 'ident'; name: string }
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; operand: Node }
  | { kind: 'neg' | 'pos'; operand: Node }
  | { kind: 'compare'; op: ComparisonOp; left: Node; right: Node }
  | { kind: 'arith'; op: ArithmeticOp; left: Node; right: Node }
  | { kind: 'like'; negated: boolean; operand: Node; pattern: string; escape: string | null }
  | { kind: 'in'; negated: boolean; operand: Node; values: string[] }
  | { kind: 'between'; negated: boolean; operand: Node; low: Node; high: Node }
  | { kind: 'isNull'; negated: boolean; operand: Node }

/** Words that are never identifiers (matched case-insensitively). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'AND',
  'OR',
  'NOT',
  'BETWEEN',
  'LIKE',
  'ESCAPE',
  'IN',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
])

// Checked per UTF-16 unit, as the lexer reads: a letter outside the BMP needs quotes.
const PLAIN_IDENT = /^[\p{L}_$][\p{L}\p{N}_$]*$/u
const SURROGATE = /[\uD800-\uDFFF]/

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

export function printIdent(name: string): string {
  if (PLAIN_IDENT.test(name) && !SURROGATE.test(name) && !KEYWORDS.has(name.toUpperCase())) return name
  return `"${name.replaceAll('"', '""')}"`
}

function printLiteral(value: Literal): string {
  if (typeof value === 'string') return quoteString(value)
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (typeof value === 'bigint') return value.toString()
  // An approximate number must read back as one: it needs a '.' or an exponent.
  const text = String(value)
  return /[.eE]/.test(text) ? text : `${text}.0`
}

/** A selector text that parses back to this tree. */
export function print(node: Node): string {
  switch (node.kind) {
    case 'literal':
      return printLiteral(node.value)
    case 'ident':
      return printIdent(node.name)
    case 'and':
    case 'or':
      return `${group(node.left)} ${node.kind.toUpperCase()} ${group(node.right)}`
    case 'not':
      return `NOT ${group(node.operand)}`
    case 'neg':
      return `-(${print(node.operand)})`
    case 'pos':
      return `+(${print(node.operand)})`
    case 'compare':
    case 'arith':
      return `${group(node.left)} ${node.op} ${group(node.right)}`
    case 'like': {
      const escapeClause = node.escape === null ? '' : ` ESCAPE ${quoteString(node.escape)}`
      return `${group(node.operand)} ${node.negated ? 'NOT ' : ''}LIKE ${quoteString(node.pattern)}${escapeClause}`
    }
    case 'in':
      return `${group(node.operand)} ${node.negated ? 'NOT ' : ''}IN (${node.values.map(quoteString).join(', ')})`
    case 'between':
      return `${group(node.operand)} ${node.negated ? 'NOT ' : ''}BETWEEN ${group(node.low)} AND ${group(node.high)}`
    case 'isNull':
      return `${group(node.operand)} IS ${node.negated ? 'NOT ' : ''}NULL`
  }
}

/** Identifiers and non-negative literals print bare; everything else in parentheses. */
function group(node: Node): string {
  if (node.kind === 'ident') return print(node)
  if (node.kind === 'literal') {
    const v = node.value
    const negative = (typeof v === 'number' && (v < 0 || Object.is(v, -0))) || (typeof v === 'bigint' && v < 0n)
    return negative ? `(${print(node)})` : print(node)
  }
  return `(${print(node)})`
}
