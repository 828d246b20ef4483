// Enough of PromQL to read a Grafana dashboard's queries: a tokenizer and a walk that tells metric
// selectors (with their label matchers) from functions, aggregations, keywords and grouping labels. A name
// followed by `(` must be a known PromQL function or aggregation (or Grafana's label_values), so a typo in
// a function fails instead of being taken for a metric. Also a parser for the Prometheus text format.

type Token = { kind: 'ident' | 'string' | 'number' | 'punct' | 'range' | 'variable'; text: string }

const FUNCTIONS = new Set([
  // aggregations
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  // functions
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'histogram_quantile',
  'abs',
  'ceil',
  'floor',
  'round',
  'clamp',
  'clamp_min',
  'clamp_max',
  'vector',
  'scalar',
  'time',
  'sort',
  'sort_desc',
  'absent',
  'changes',
  'resets',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
  'quantile_over_time',
  'predict_linear',
  'label_replace',
  'label_join',
  'sqrt',
  'ln',
  'log2',
  'log10',
  'exp',
  // Grafana template queries
  'label_values',
])
/** Keywords followed by a parenthesised list of label names. */
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'])
const KEYWORDS = new Set(['bool', 'and', 'or', 'unless', 'offset', 'atan2'])

export function tokenize(expr: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < expr.length) {
    const ch = expr[i]!
    if (/\s/.test(ch)) {
      i++
    } else if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1
      while (j < expr.length && expr[j] !== ch) j += expr[j] === '\\' ? 2 : 1
      if (j >= expr.length) throw new Error(`unterminated string in ${expr}`)
      tokens.push({ kind: 'string', text: expr.slice(i + 1, j) })
      i = j + 1
    } else if (ch === '[') {
      const j = expr.indexOf(']', i)
      if (j < 0) throw new Error(`unterminated range in ${expr}`)
      tokens.push({ kind: 'range', text: expr.slice(i + 1, j) })
      i = j + 1
    } else if (ch === '$') {
      const m = /^\$(\{[^}]*\}|\w+)/.exec(expr.slice(i))
      if (m === null) throw new Error(`bad variable in ${expr}`)
      tokens.push({ kind: 'variable', text: m[0] })
      i += m[0].length
    } else if (/[0-9.]/.test(ch)) {
      const m = /^[0-9.]+(e[+-]?[0-9]+)?/i.exec(expr.slice(i))!
      tokens.push({ kind: 'number', text: m[0] })
      i += m[0].length
    } else if (/[a-zA-Z_:]/.test(ch)) {
      const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i))!
      tokens.push({ kind: 'ident', text: m[0] })
      i += m[0].length
    } else {
      const m = /^(=~|!~|!=|==|<=|>=|[-+*/%^(){},=<>])/.exec(expr.slice(i))
      if (m === null) throw new Error(`unexpected '${ch}' in ${expr}`)
      tokens.push({ kind: 'punct', text: m[0] })
      i += m[0].length
    }
  }
  return tokens
}

export interface Selector {
  metric: string
  /** Label names its matchers use. */
  labels: string[]
}

export interface ParsedQuery {
  selectors: Selector[]
  /** Label names of by/without/on/ignoring clauses. */
  grouping: string[]
}

export function parseQuery(expr: string): ParsedQuery {
  const tokens = tokenize(expr)
  const selectors: Selector[] = []
  const grouping: string[] = []
  let depth = 0
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'punct' && t.text === '(') depth++
    if (t.kind === 'punct' && t.text === ')') depth--
    if (depth < 0) throw new Error(`unbalanced parentheses in ${expr}`)
    if (t.kind !== 'ident') continue
    const next = tokens[i + 1]
    if (GROUPING.has(t.text)) {
      if (next?.text !== '(') continue // group_left without a list
      let j = i + 2
      for (; tokens[j] !== undefined && tokens[j]!.text !== ')'; j++)
        if (tokens[j]!.kind === 'ident') grouping.push(tokens[j]!.text)
      i = j
      continue
    }
    if (KEYWORDS.has(t.text)) continue
    // An aggregation with its clause first: `sum by (queue) (...)`.
    if (FUNCTIONS.has(t.text) && next?.kind === 'ident' && GROUPING.has(next.text)) continue
    if (t.text === 'label_values' && next?.text === '(') {
      // Grafana's label_values(metric, label): the last argument is a label name, not a selector.
      const close = tokens.findIndex((x, j) => j > i && x.text === ')')
      const label = tokens[close - 1]
      if (label?.kind === 'ident' && tokens[close - 2]?.text === ',') {
        grouping.push(label.text)
        tokens.splice(close - 2, 2)
      }
      continue
    }
    if (next?.kind === 'punct' && next.text === '(') {
      if (!FUNCTIONS.has(t.text)) throw new Error(`unknown PromQL function '${t.text}' in ${expr}`)
      continue
    }
    const labels: string[] = []
    if (next?.kind === 'punct' && next.text === '{') {
      let j = i + 2
      for (; tokens[j] !== undefined && tokens[j]!.text !== '}'; j++) {
        const label = tokens[j]!
        const op = tokens[j + 1]
        if (label.kind === 'ident' && op !== undefined && ['=', '!=', '=~', '!~'].includes(op.text))
          labels.push(label.text)
      }
      if (tokens[j] === undefined) throw new Error(`unterminated label matchers in ${expr}`)
      i = j
    }
    selectors.push({ metric: t.text, labels })
  }
  if (depth !== 0) throw new Error(`unbalanced parentheses in ${expr}`)
  return { selectors, grouping }
}

export interface Scrape {
  /** `# TYPE` per family. */
  types: Map<string, string>
  /** Per sample name: label names seen and the samples. */
  samples: Map<string, Array<{ labels: Record<string, string>; value: number }>>
}

export function parseExposition(text: string): Scrape {
  const types = new Map<string, string>()
  const samples: Scrape['samples'] = new Map()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) types.set(type[1]!, type[2]!)
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line)
    if (m === null) throw new Error(`unparsable exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    const list = samples.get(m[1]!) ?? []
    list.push({ labels, value: Number(m[3]) })
    samples.set(m[1]!, list)
  }
  return { types, samples }
}

/** Sum of a sample name's values whose labels include `where`. */
export function total(scrape: Scrape, name: string, where: Record<string, string> = {}): number {
  let sum = 0
  for (const s of scrape.samples.get(name) ?? [])
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) sum += s.value
  return sum
}
