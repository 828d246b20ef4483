// Recursive-descent parser of JMS 1.1 §3.8.1.1 selectors. Precedence, lowest first: OR, AND, NOT, the
// comparisons (= <> < <= > >= [NOT] LIKE, [NOT] BETWEEN, [NOT] IN, IS [NOT] NULL), + -, * /, unary + -.
// Besides the grammar it checks what is knowable before any message arrives: a condition must be able to
// be boolean ("3 + 5" is refused, as ActiveMQ and Artemis refuse it), arithmetic takes no boolean and
// ordering comparisons no string literal. Bounded: tree depth and IN-list size (SelectorLimits).
import type { ArithmeticOp, ComparisonOp, Node } from './ast.js'
import { SelectorError } from './errors.js'
import { exactValue, type Token, tokenize } from './lexer.js'

export interface SelectorLimits {
  /** Longest selector text, in characters. */
  lengthMax: number
  /** Deepest expression tree (nested parentheses count too). */
  depthMax: number
  /** Most strings in one IN list. */
  inListMax: number
}

export const defaultSelectorLimits: SelectorLimits = Object.freeze({
  lengthMax: 4096,
  depthMax: 256,
  inListMax: 1024,
})

/** What a subexpression can evaluate to, as far as the text tells. */
type Kind = 'bool' | 'num' | 'str' | 'any'

const COMPARISONS = new Set(['=', '<>', '<', '<=', '>', '>='])

export function parseSelector(text: string, limits: SelectorLimits = defaultSelectorLimits): Node {
  if (text.length > limits.lengthMax)
    throw new SelectorError(`longer than ${limits.lengthMax} characters`, limits.lengthMax)
  return new Parser(tokenize(text), limits).parse()
}

class Parser {
  #at = 0
  #nesting = 0
  readonly #tokens: Token[]
  readonly #limits: SelectorLimits
  /** Depth of each node built, to bound the tree (every later pass over it recurses). */
  readonly #depth = new WeakMap<Node, number>()

  constructor(tokens: Token[], limits: SelectorLimits) {
    this.#tokens = tokens
    this.#limits = limits
  }

  parse(): Node {
    const first = this.#peek()
    if (first.type === 'end') throw new SelectorError('empty selector', first.at)
    const node = this.#or()
    const rest = this.#peek()
    if (rest.type !== 'end') throw new SelectorError(`unexpected ${describe(rest)}`, rest.at)
    this.#condition(node, first)
    return node
  }

  #peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#at + offset, this.#tokens.length - 1)]!
  }

  #next(): Token {
    const token = this.#peek()
    if (token.type !== 'end') this.#at++
    return token
  }

  #isKeyword(word: string, offset = 0): boolean {
    const token = this.#peek(offset)
    return token.type === 'keyword' && token.text === word
  }

  #isOp(op: string): boolean {
    const token = this.#peek()
    return token.type === 'op' && token.text === op
  }

  #expectKeyword(word: string): void {
    const token = this.#next()
    if (token.type !== 'keyword' || token.text !== word)
      throw new SelectorError(`expected ${word}, found ${describe(token)}`, token.at)
  }

  #expectOp(op: string): void {
    const token = this.#next()
    if (token.type !== 'op' || token.text !== op)
      throw new SelectorError(`expected '${op}', found ${describe(token)}`, token.at)
  }

  #string(what: string): { text: string; at: number } {
    const token = this.#next()
    if (token.type !== 'string') throw new SelectorError(`${what} must be a string literal`, token.at)
    return token
  }

  /** Records a node's depth (1 + its deepest child) and refuses trees deeper than the limit. */
  #node<T extends Node>(node: T, at: number, ...children: Node[]): T {
    let depth = 1
    for (const child of children) depth = Math.max(depth, (this.#depth.get(child) ?? 1) + 1)
    if (depth > this.#limits.depthMax) throw new SelectorError(`nested deeper than ${this.#limits.depthMax}`, at)
    this.#depth.set(node, depth)
    return node
  }

  #enter(at: number): void {
    if (++this.#nesting > this.#limits.depthMax)
      throw new SelectorError(`nested deeper than ${this.#limits.depthMax}`, at)
  }

  #or(): Node {
    let left = this.#and()
    while (this.#isKeyword('OR')) {
      const op = this.#next()
      const start = this.#peek()
      const right = this.#and()
      this.#condition(left, op)
      this.#condition(right, start)
      left = this.#node({ kind: 'or', left, right }, op.at, left, right)
    }
    return left
  }

  #and(): Node {
    let left = this.#not()
    while (this.#isKeyword('AND')) {
      const op = this.#next()
      const start = this.#peek()
      const right = this.#not()
      this.#condition(left, op)
      this.#condition(right, start)
      left = this.#node({ kind: 'and', left, right }, op.at, left, right)
    }
    return left
  }

  #not(): Node {
    if (!this.#isKeyword('NOT')) return this.#comparison()
    const op = this.#next()
    this.#enter(op.at)
    const start = this.#peek()
    const operand = this.#not()
    this.#nesting--
    this.#condition(operand, start)
    return this.#node({ kind: 'not', operand }, op.at, operand)
  }

  #comparison(): Node {
    let left = this.#additive()
    for (;;) {
      const token = this.#peek()
      if (token.type === 'op' && COMPARISONS.has(token.text)) {
        this.#next()
        const right = this.#additive()
        const op = token.text as ComparisonOp
        if (op !== '=' && op !== '<>') {
          this.#operand(left, token, ['num', 'any'], `'${op}' compares numbers only`)
          this.#operand(right, token, ['num', 'any'], `'${op}' compares numbers only`)
        }
        left = this.#node({ kind: 'compare', op, left, right }, token.at, left, right)
        continue
      }
      const negated =
        this.#isKeyword('NOT') &&
        (this.#isKeyword('LIKE', 1) || this.#isKeyword('BETWEEN', 1) || this.#isKeyword('IN', 1))
      const word = this.#peek(negated ? 1 : 0)
      if (word.type !== 'keyword') return left
      if (word.text === 'LIKE') {
        this.#at += negated ? 2 : 1
        this.#operand(left, word, ['str', 'any'], 'LIKE applies to strings only')
        const pattern = this.#string('a LIKE pattern').text
        let escapeChar: string | null = null
        if (this.#isKeyword('ESCAPE')) {
          this.#next()
          const e = this.#string('an ESCAPE character')
          if ([...e.text].length !== 1) throw new SelectorError('the ESCAPE string must be one character', e.at)
          escapeChar = e.text
        }
        left = this.#node({ kind: 'like', negated, operand: left, pattern, escape: escapeChar }, word.at, left)
      } else if (word.text === 'IN') {
        this.#at += negated ? 2 : 1
        this.#operand(left, word, ['str', 'any'], 'IN applies to strings only')
        this.#expectOp('(')
        const values = [this.#string('an IN list item').text]
        while (this.#isOp(',')) {
          this.#next()
          const item = this.#string('an IN list item')
          if (values.length >= this.#limits.inListMax)
            throw new SelectorError(`IN list longer than ${this.#limits.inListMax}`, item.at)
          values.push(item.text)
        }
        this.#expectOp(')')
        left = this.#node({ kind: 'in', negated, operand: left, values }, word.at, left)
      } else if (word.text === 'BETWEEN') {
        this.#at += negated ? 2 : 1
        const low = this.#additive()
        this.#expectKeyword('AND')
        const high = this.#additive()
        for (const n of [left, low, high]) this.#operand(n, word, ['num', 'any'], 'BETWEEN compares numbers only')
        left = this.#node({ kind: 'between', negated, operand: left, low, high }, word.at, left, low, high)
      } else if (word.text === 'IS') {
        this.#next()
        const not = this.#isKeyword('NOT')
        if (not) this.#next()
        this.#expectKeyword('NULL')
        left = this.#node({ kind: 'isNull', negated: not, operand: left }, word.at, left)
      } else return left
    }
  }

  #additive(): Node {
    let left = this.#multiplicative()
    while (this.#isOp('+') || this.#isOp('-')) {
      const op = this.#next()
      const right = this.#multiplicative()
      this.#arithmetic(op, left, right)
      left = this.#node({ kind: 'arith', op: op.text as ArithmeticOp, left, right }, op.at, left, right)
    }
    return left
  }

  #multiplicative(): Node {
    let left = this.#unary()
    while (this.#isOp('*') || this.#isOp('/')) {
      const op = this.#next()
      const right = this.#unary()
      this.#arithmetic(op, left, right)
      left = this.#node({ kind: 'arith', op: op.text as ArithmeticOp, left, right }, op.at, left, right)
    }
    return left
  }

  #unary(): Node {
    if (!this.#isOp('-') && !this.#isOp('+')) return this.#primary()
    const op = this.#next()
    const literal = this.#peek()
    if (op.text === '-' && (literal.type === 'exact' || literal.type === 'approx')) {
      // A negative literal, not a negation: -9223372036854775808 is a long although its digits are not.
      this.#next()
      const value = literal.type === 'exact' ? exactValue(literal.text, true) : -literal.value
      return this.#node({ kind: 'literal', value }, op.at)
    }
    this.#enter(op.at)
    const operand = this.#unary()
    this.#nesting--
    this.#operand(operand, op, ['num', 'any'], `unary '${op.text}' applies to numbers only`)
    return this.#node({ kind: op.text === '-' ? 'neg' : 'pos', operand }, op.at, operand)
  }

  #primary(): Node {
    const token = this.#next()
    switch (token.type) {
      case 'string':
        return this.#node({ kind: 'literal', value: token.text }, token.at)
      case 'exact':
      case 'approx':
        return this.#node({ kind: 'literal', value: token.value }, token.at)
      case 'ident':
        return this.#node({ kind: 'ident', name: token.text }, token.at)
      case 'keyword':
        if (token.text === 'TRUE' || token.text === 'FALSE')
          return this.#node({ kind: 'literal', value: token.text === 'TRUE' }, token.at)
        break
      case 'op':
        if (token.text === '(') {
          this.#enter(token.at)
          const inner = this.#or()
          this.#nesting--
          this.#expectOp(')')
          return inner
        }
        break
    }
    throw new SelectorError(`unexpected ${describe(token)}`, token.at)
  }

  /** A condition (operand of AND, OR, NOT, or the whole selector) must be able to be boolean. */
  #condition(node: Node, where: Token): void {
    this.#operand(node, where, ['bool', 'any'], 'expression is not a condition (it cannot be TRUE or FALSE)')
  }

  #arithmetic(op: Token, left: Node, right: Node): void {
    // '+' also joins two strings (ActiveMQ and Artemis do); every other mix needs numbers.
    const l = kindOf(left)
    const r = kindOf(right)
    if (op.text === '+' && (l === 'str' || r === 'str') && l !== 'num' && r !== 'num' && l !== 'bool' && r !== 'bool')
      return
    this.#operand(left, op, ['num', 'any'], `'${op.text}' applies to numbers only`)
    this.#operand(right, op, ['num', 'any'], `'${op.text}' applies to numbers only`)
  }

  #operand(node: Node, where: Token, allowed: Kind[], message: string): void {
    if (!allowed.includes(kindOf(node))) throw new SelectorError(message, where.at)
  }
}

function kindOf(node: Node): Kind {
  switch (node.kind) {
    case 'literal':
      return typeof node.value === 'string' ? 'str' : typeof node.value === 'boolean' ? 'bool' : 'num'
    case 'ident':
      return 'any'
    case 'neg':
    case 'pos':
      return 'num'
    case 'arith': {
      if (node.op !== '+') return 'num'
      const l = kindOf(node.left)
      const r = kindOf(node.right)
      return l === 'str' || r === 'str' ? 'str' : l === 'num' || r === 'num' ? 'num' : 'any'
    }
    default:
      return 'bool'
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'end of selector'
    case 'string':
      return 'a string literal'
    case 'ident':
      return `identifier '${token.text}'`
    default:
      return `'${token.text}'`
  }
}
