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
// Compiled once: a MESSAGE escapes every header name and value, and most need nothing.
const special10 = /[\r\n]/
const special11 = /[\n:\\]/
const special12 = /[\r\n:\\]/
const every10 = /[\r\n]/g
const every11 = /[\n:\\]/g
const every12 = /[\r\n:\\]/g
const escape11 = (c: string): string => escapes11[c] ?? c
const escape12 = (c: string): string => escapes12[c] ?? c

export function escapeValue(text: string, version: StompVersion): string {
  if (version === '1.2') return special12.test(text) ? text.replace(every12, escape12) : text
  if (version === '1.1') return special11.test(text) ? text.replace(every11, escape11) : text
  return special10.test(text) ? text.replace(every10, ' ') : text
}
