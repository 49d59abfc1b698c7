// authkeys as heartbeat 3.0.6 reads it (heartbeat/auth.c parse_authfile): the signing keys, never printed.

import type { AuthKey, AuthKeys, AuthMethod } from '../wire/auth-keys.js'
import { quote, type Diagnostic } from './diagnostics.js'
import { didYouMean } from './did-you-mean.js'
import { WHITESPACE, span, splitLines, splitOn } from './line-tokenizer.js'

const METHODS: readonly AuthMethod[] = ['crc', 'md5', 'sha1']
/** MAXAUTH: indices 0..15 (authkeys(5) says 1-15; the code takes 0). */
const MAX_INDEX = 15

/**
 * Parse authkeys. `mode` is the file's st_mode (permission bits are enough): heartbeat refuses
 * a key file readable by group or others. Returns no keys when heartbeat would refuse the file.
 * Messages name key indices, never key text.
 */
export function parseAuthkeys(text: string, path: string, mode: number): { keys: AuthKeys | undefined; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const error = (message: string, line?: number): void => {
    diagnostics.push(line === undefined ? { path, severity: 'error', message } : { path, line, severity: 'error', message })
  }
  const warn = (message: string, line: number): void => {
    diagnostics.push({ path, line, severity: 'warning', message })
  }
  // auth.c: st_mode & (S_IRGRP | S_IROTH) → "Bad permissions on keyfile"; write bits are not checked
  if ((mode & 0o044) !== 0) {
    error(`readable by group or others (mode ${octal(mode & 0o7777)}); heartbeat requires 600`)
  }
  const keys = new Map<number, AuthKey>()
  let authnum = -1
  let authLine: number | undefined
  /** auth.c records the active key only when its `N method` line comes after `auth N`. */
  let active: number | undefined
  const definedBeforeAuth = new Map<number, number>()

  for (const { number, text: raw } of splitLines(text)) {
    const nul = raw.indexOf('\0')
    const body = (nul >= 0 ? raw.slice(0, nul) : raw).slice(span(raw, WHITESPACE))
    if (body === '' || body.startsWith('#')) continue
    const words = splitOn(body, WHITESPACE)
    if (body.startsWith('a')) {
      // sscanf("auth %d"): the word auth, blanks, an integer; anything after is ignored
      const m = /^auth[ \t\n\r\f\v]*([+-]?\d+)/.exec(body)
      if (!m) {
        error(`${describeWord(body)} is not "auth N" (N: the key index to sign with)`, number)
        continue
      }
      authnum = Number(m[1])
      authLine = number
      if (words.length > 2) warn(`heartbeat ignores ${words.slice(2).map(quote).join(', ')} after "auth ${m[1]}"`, number)
      continue
    }
    // sscanf("%d%s%s"): index, method, optional key; a fourth word is ignored
    const m = /^([+-]?\d+)/.exec(body)
    const index = m ? Number(m[1]) : undefined
    const afterIndex = m ? splitOn(body.slice(m[0].length), WHITESPACE) : []
    const [method, key, ...extra] = afterIndex
    if (index === undefined || method === undefined) {
      error(`not a key line: expected "N method [key]" (e.g. "1 sha1 SECRET") or "auth N"`, number)
      continue
    }
    if (index < 0 || index > MAX_INDEX) {
      error(`key index ${index} is out of range (0-${MAX_INDEX})`, number)
      continue
    }
    if (!(METHODS as readonly string[]).includes(method)) {
      error(`key ${index}: unknown method ${quote(method)} (crc, md5 or sha1)${didYouMean(method, METHODS)}`, number)
      continue
    }
    const authMethod = method as AuthMethod
    if (authMethod === 'crc' && key !== undefined) {
      error(`key ${index}: crc does not use a key; remove the key text`, number)
      continue
    }
    if (authMethod !== 'crc' && key === undefined) {
      error(`key ${index}: ${authMethod} requires a key`, number)
      continue
    }
    if (extra.length > 0) warn(`key ${index}: the key is one word; heartbeat ignores the ${extra.length} word${extra.length === 1 ? '' : 's'} after it`, number)
    if (keys.has(index)) warn(`key ${index} is defined again; the later line replaces the earlier one`, number)
    keys.set(index, { method: authMethod, key: Buffer.from(key ?? '', 'utf8') })
    if (index === authnum) active = index
    else definedBeforeAuth.set(index, number)
  }

  if (active === undefined) {
    if (authnum < 0) error(`no "auth N" line: heartbeat needs one to choose the signing key`)
    else if (definedBeforeAuth.has(authnum)) {
      error(`"auth ${authnum}" must come before the line defining key ${authnum} (line ${definedBeforeAuth.get(authnum) ?? '?'}); heartbeat reports "Auth Key [${authnum}] not found"`, authLine)
    } else error(`auth ${authnum}: key ${authnum} is not defined`, authLine)
  } else if (authnum !== active) {
    // auth.c keeps the key chosen earlier when a later "auth N" names no key defined after it
    diagnostics.push({ path, line: authLine, severity: 'warning', message: `auth ${authnum}: key ${authnum} is not defined after this line; heartbeat keeps signing with key ${active}` })
  }
  const refused = diagnostics.some((d) => d.severity === 'error')
  if (refused || active === undefined) return { keys: undefined, diagnostics }
  return { keys: { active, keys }, diagnostics }
}

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0')
}

/**
 * The first word of a bad line, quoted only when it looks like a misspelt keyword: any other
 * text in an authkeys file may be a key, and keys are never printed.
 */
function describeWord(text: string): string {
  const first = text.slice(0, text.search(/[ \t\r\f\v]|$/))
  return /^[a-z]{1,8}$/.test(first) ? quote(first) : 'the line'
}
