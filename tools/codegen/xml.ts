// A small reader for the AMQP 1.0 spec XML (../shared/spec/amqp10/*.bare.xml): elements with attributes and
// children, comments and the XML declaration skipped. Those files use no text content, CDATA or entities
// other than the five predefined ones, so nothing more is needed; anything else is an error, not a guess.

export interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities(text: string): string {
  return text.replace(/&(\w+);/g, (whole, name: string) => {
    const value = ENTITIES[name]
    if (value === undefined) throw new Error(`unknown XML entity ${whole}`)
    return value
  })
}

export function parseXml(text: string): XmlElement {
  const source = text.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '')
  const root: XmlElement = { name: '#document', attributes: {}, children: [] }
  const stack: XmlElement[] = [root]
  const tag = /<(\/?)([\w:-]+)((?:\s+[\w:-]+\s*=\s*"[^"]*")*)\s*(\/?)>/g
  let last = 0
  for (let m = tag.exec(source); m !== null; m = tag.exec(source)) {
    if (source.slice(last, m.index).trim() !== '') throw new Error(`unexpected text before <${m[2]}>`)
    last = tag.lastIndex
    const [, closing, name, attributeText, selfClosing] = m
    if (closing) {
      const open = stack.pop()
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`)
      continue
    }
    const attributes: Record<string, string> = {}
    for (const a of attributeText!.matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)) attributes[a[1]!] = decodeEntities(a[2]!)
    const element: XmlElement = { name: name!, attributes, children: [] }
    stack.at(-1)!.children.push(element)
    if (!selfClosing) stack.push(element)
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is not closed`)
  if (source.slice(last).trim() !== '') throw new Error('unexpected text at the end')
  return root
}

/** Every descendant element with this name, in document order. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = []
  for (const child of element.children) {
    if (child.name === name) out.push(child)
    out.push(...descendants(child, name))
  }
  return out
}
