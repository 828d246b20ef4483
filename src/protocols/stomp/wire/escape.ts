// Header value encoding. STOMP 1.1 escapes \n, : and \ as \n, \c and \\; 1.2 adds \r. 1.0 has no escaping,
// and CONNECT/CONNECTED frames are never escaped (a 1.0 client could not read them otherwise). An unknown
// escape sequence is a fatal protocol error (1.2 "Value Encoding").
import { StompFrameError, type StompVersion } from './frame.js'

const BACKSLASH = 0x5c

export function unescapeValue(text: string, version: StompVersion): string {
  if (text.indexOf('\\') === -1) return text
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== BACKSLASH) {
      out += text[i]
      continue
    }
    const next = text[++i]
    if (next === 'n') out += '\n'
    else if (next === 'c') out += ':'
    else if (next === '\\') out += '\\'
    else if (next === 'r' && version === '1.2') out += '\r'
    else throw new StompFrameError(`invalid escape sequence \\${next ?? ''} in a header`)
  }
  return out
}

const escapes11: Record<string, string> = { '\n': '\\n', ':': '\\c', '\\': '\\\\' }
const escapes12: Record<string, string> = { ...escapes11, '\r': '\\r' }

export function escapeValue(text: string, version: StompVersion): string {
  if (version === '1.0') return /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text
  const special = version === '1.2' ? /[\r\n:\\]/g : /[\n:\\]/g
  if (!special.test(text)) return text
  special.lastIndex = 0
  const table = version === '1.2' ? escapes12 : escapes11
  return text.replace(special, (c) => table[c] ?? c)
}
