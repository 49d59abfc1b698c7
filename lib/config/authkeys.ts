// authkeys as heartbeat 3.0.6 reads it (heartbeat/auth.c parse_authfile): the signing keys, never printed.

import type { AuthKey, AuthKeys, AuthMethod } from '../wire/auth-keys.js'
import { quote, type Diagnostic } from './diagnostics.js'
import { closest, didYouMean } from './did-you-mean.js'
import { WHITESPACE, span, splitOn } from './line-tokenizer.js'

const METHODS: readonly AuthMethod[] = ['crc', 'md5', 'sha1']
/** MAXAUTH: indices 0..15 (authkeys(5) says 1-15; the code takes 0). */
const MAX_INDEX = 15
/** fgets(buf, MAXLINE=5120, f): at most 5119 bytes per read; a longer line is read as several. */
export const AUTHKEYS_READ_BYTES = 5119

export interface ParsedAuthkeys {
  keys: AuthKeys | undefined
  diagnostics: Diagnostic[]
  /** Warnings about a file heartbeat accepts but an admin should change (hbctl check prints them). */
  advice: Diagnostic[]
}

/**
 * Parse authkeys. `file` is the file's bytes (a string is taken as the text of a UTF-8 file);
 * every key is the exact bytes between its blanks, as sscanf copies them in 3.0.6. `mode` is the
 * file's st_mode: heartbeat refuses a key file readable by group or others. Returns no keys when
 * heartbeat would refuse the file. Messages name key indices, never key text.
 */
export function parseAuthkeys(file: string | Uint8Array, path: string, mode: number): ParsedAuthkeys {
  // latin1 maps each byte to one character and back: the lexing below works on bytes
  const text = (typeof file === 'string' ? Buffer.from(file, 'utf8') : Buffer.from(file.buffer, file.byteOffset, file.byteLength)).toString('latin1')
  const diagnostics: Diagnostic[] = []
  const error = (message: string, line?: number): void => {
    diagnostics.push(line === undefined ? { path, severity: 'error', message } : { path, line, severity: 'error', message })
  }
  const warn = (message: string, line: number): void => {
    diagnostics.push({ path, line, severity: 'warning', message })
  }
  // auth.c: st_mode & (S_IRGRP | S_IROTH) → "Bad permissions on keyfile"; write bits are not checked
  if ((mode & 0o044) !== 0) {
    error(`readable by group or others (mode ${octal(mode & 0o7777)}); heartbeat requires 600 (chmod 600 ${path})`)
  }
  const keys = new Map<number, AuthKey>()
  const keyLines = new Map<number, number>()
  let authnum = -1
  let authLine: number | undefined
  /** auth.c records the active key only when its `N method` line comes after `auth N`. */
  let active: number | undefined
  const definedBeforeAuth = new Map<number, number>()

  for (const { number, reads, bytes } of physicalLines(text)) {
    for (const [part, raw] of reads.entries()) {
      const nul = raw.indexOf('\0')
      const body = (nul >= 0 ? raw.slice(0, nul) : raw).slice(span(raw, WHITESPACE))
      if (body === '' || body.startsWith('#')) continue
      if (part > 0) {
        // the tail of an over-long line: 3.0.6 parses it as a line of its own, and it is key text
        error(`the line is ${bytes} bytes long: heartbeat 3.0.6 reads the bytes after the first ${AUTHKEYS_READ_BYTES} as a line of their own, which is not a key line (use a key of at most ${maxKeyBytes(reads[0] ?? '')} bytes)`, number)
        break
      }
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
        if (words.length > 2) warn(`heartbeat ignores ${words.length - 2} word${words.length === 3 ? '' : 's'} after "auth ${m[1]}"`, number)
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
        error(`key ${index}: ${unknownMethod(method)}`, number)
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
      if (key !== undefined && raw.endsWith(key) && !WHITESPACE.includes(reads[1]?.[0] ?? ' ')) {
        // the key word goes on past the end of this read
        warn(`key ${index}: the line is ${bytes} bytes long; heartbeat 3.0.6 reads ${AUTHKEYS_READ_BYTES} bytes at a time and keeps only the first ${key.length} bytes of the key (heartbeat-ts does the same)`, number)
      }
      if (extra.length > 0) warn(`key ${index}: the key is one word; heartbeat ignores the ${extra.length} word${extra.length === 1 ? '' : 's'} after it`, number)
      if (keys.has(index)) warn(`key ${index} is defined again; the later line replaces the earlier one`, number)
      keys.set(index, { method: authMethod, key: Buffer.from(key ?? '', 'latin1') })
      keyLines.set(index, number)
      if (index === authnum) active = index
      else definedBeforeAuth.set(index, number)
    }
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
  if (refused || active === undefined) return { keys: undefined, diagnostics, advice: [] }
  return { keys: { active, keys }, diagnostics, advice: advise(path, active, keys, keyLines) }
}

/** crc signs with no secret; every listed key verifies what it signed, so a leaked retired key stays valid while listed. */
function advise(path: string, active: number, keys: ReadonlyMap<number, AuthKey>, lines: ReadonlyMap<number, number>): Diagnostic[] {
  const out: Diagnostic[] = []
  const at = (index: number): { path: string; line?: number } => {
    const line = lines.get(index)
    return line === undefined ? { path } : { path, line }
  }
  for (const [index, key] of [...keys].sort((a, b) => (lines.get(a[0]) ?? 0) - (lines.get(b[0]) ?? 0))) {
    if (index === active) {
      if (key.method === 'crc') out.push({ ...at(index), severity: 'warning', message: `key ${index}: crc authenticates nothing: anyone on the network can send heartbeats that this node accepts; use sha1` })
    } else {
      out.push({ ...at(index), severity: 'warning', message: `key ${index} is listed but not active (auth ${active}): packets signed with it are still accepted; remove it once every node signs with key ${active}` })
    }
  }
  return out
}

/** Physical lines (LF-terminated), each cut into the pieces fgets(buf, 5120) returns. */
function physicalLines(text: string): Array<{ number: number; reads: string[]; bytes: number }> {
  const parts = text.split('\n')
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop()
  return parts.map((line, i) => {
    const withLf = i < parts.length - 1 || text.endsWith('\n') ? `${line}\n` : line
    const reads: string[] = []
    for (let at = 0; at < withLf.length; at += AUTHKEYS_READ_BYTES) reads.push(withLf.slice(at, at + AUTHKEYS_READ_BYTES))
    return { number: i + 1, reads, bytes: line.length }
  })
}

/** How long the key of a line may be for the line to fit one read. */
function maxKeyBytes(firstRead: string): number {
  const m = /^[ \t\n\r\f\v]*[+-]?\d+[ \t\n\r\f\v]+\S+[ \t\n\r\f\v]+/.exec(firstRead)
  return AUTHKEYS_READ_BYTES - (m?.[0].length ?? 0)
}

/** An unknown method word is shown only when it is close to a method name: anything else may be the key. */
function unknownMethod(word: string): string {
  const glued = METHODS.find((m) => word.startsWith(m) && word.length > m.length)
  if (glued !== undefined) return `the method and the key must be separated by a blank (${quote(glued)} and the key run together)`
  if (closest(word, METHODS) !== undefined && word.length <= 8) return `unknown method ${quote(word)} (crc, md5 or sha1)${didYouMean(word, METHODS)}`
  return `unknown method (crc, md5 or sha1); the word is not shown, as it may be a key`
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
  return /^[a-z]{1,8}$/.test(first) && closest(first, ['auth']) !== undefined ? quote(first) : 'the line'
}
