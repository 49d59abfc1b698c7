// Issue 10, classic parity: malformed variants of one correctly signed classic (`>>>`) datagram from a
// configured peer, each signed over the text heartbeat 3.0.6 checks for it (its re-rendering of the
// fields it parsed: cl_msg.c msg2string_buf with NOHEAD) unless the variant is about signing other
// bytes. Shared by the namespace prober (which sends them to a real 3.0.6) and the probe test (which
// hands the same bytes to our decoder).

import { computeDigest } from '../../lib/wire/digest.js'
import type { AuthMethod } from '../../lib/wire/auth-keys.js'

/** Who sends, and with which key: the probe plays the other node of the real node's ha.cf. */
export interface ProbeSender {
  src: string
  /** Generation and timestamp (seconds), written as hex like 3.0.6 does. */
  hg: number
  ts: number
  auth: { index: number; method: AuthMethod; key: Buffer }
}

export interface Variant {
  /** Short id, also the value of the `probe` field, so the real node's record names the variant. */
  id: string
  /** What is odd about it. */
  what: string
  /** The datagram for sequence number `seq`, and the text its `auth` digest covers (for the report). */
  build(s: ProbeSender, seq: number): { bytes: Buffer; signed: string }
}

/** The message type the probe uses: no 3.0.6 handler of its own, so notify_world runs rc.d/probe. */
export const PROBE_TYPE = 'probe'

const hex = (n: number): string => n.toString(16)

/** The fields every variant starts with, as classic lines: t, src, seq, hg, ts, probe. */
export function headLines(s: ProbeSender, seq: number, probe: string, type = PROBE_TYPE): string {
  return `t=${type}\nsrc=${s.src}\nseq=${hex(seq)}\nhg=${hex(s.hg)}\nts=${hex(s.ts)}\nprobe=${probe}\n`
}

export function authLine(s: ProbeSender, signed: string): string {
  return `auth=${s.auth.index} ${computeDigest(s.auth.method, s.auth.key, Buffer.from(signed, 'latin1'))}`
}

const NUL = '\0'

/** `>>>\n` body `auth=…\n<<<\n` and the NUL of strlen+1, signed over `signed` (default: the body). */
function framed(s: ProbeSender, body: string, signed = body, tail = `\n<<<\n${NUL}`): { bytes: Buffer; signed: string } {
  return { bytes: Buffer.from(`>>>\n${body}${authLine(s, signed)}${tail}`, 'latin1'), signed }
}

/** A variant whose only oddity is in the lines after the head: `lines` as sent, `signed` as 3.0.6 re-renders them. */
function lines(id: string, what: string, sent: string, signed = sent): Variant {
  return {
    id,
    what,
    build: (s, seq) => {
      const head = headLines(s, seq, id)
      return framed(s, head + sent, head + signed)
    },
  }
}

function raw(id: string, what: string, build: (s: ProbeSender, head: string) => { text: string; signed: string }): Variant {
  return {
    id,
    what,
    build: (s, seq) => {
      const r = build(s, headLines(s, seq, id))
      return { bytes: Buffer.from(r.text, 'latin1'), signed: r.signed }
    },
  }
}

/** The well-formed message the prober sends right after a variant, with the same seq (see classic-prober.ts). */
export function sentinel(s: ProbeSender, seq: number, id: string): Buffer {
  return framed(s, `${headLines(s, seq, `${id}.sentinel`)}info=hello\n`).bytes
}

const INFO = 'info=hello\n'

export const VARIANTS: readonly Variant[] = [
  lines('well-formed', 'well-formed, with the NUL of strlen+1', INFO),
  raw('no-nul', 'well-formed, no trailing NUL', (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}\n<<<\n`, signed: h + INFO })),
  raw('blank-lines', 'blank lines before, between and after the fields', (s, h) => ({
    text: `>>>\n\n${h}\n\n${INFO}\n${authLine(s, h + INFO)}\n\n<<<\n${NUL}`,
    signed: h + INFO,
  })),
  raw('blank-lines-signed', 'a blank line between fields, signed with the blank line in', (s, h) => ({
    text: `>>>\n${h}\n${INFO}${authLine(s, `${h}\n${INFO}`)}\n<<<\n${NUL}`,
    signed: `${h}\n${INFO}`,
  })),
  raw('auth-first', 'the auth line first', (s, h) => ({ text: `>>>\n${authLine(s, h + INFO)}\n${h}${INFO}<<<\n${NUL}`, signed: h + INFO })),
  raw('auth-middle', 'fields after the auth line', (s, h) => ({ text: `>>>\n${h}${authLine(s, h + INFO)}\n${INFO}<<<\n${NUL}`, signed: h + INFO })),
  raw('two-auth-last-good', 'two auth lines, the last one right', (s, h) => ({
    text: `>>>\n${h}${INFO}auth=${s.auth.index} ${'0'.repeat(40)}\n${authLine(s, h + INFO)}\n<<<\n${NUL}`,
    signed: h + INFO,
  })),
  raw('two-auth-first-good', 'two auth lines, only the first one right', (s, h) => ({
    text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}\nauth=${s.auth.index} ${'0'.repeat(40)}\n<<<\n${NUL}`,
    signed: h + INFO,
  })),
  raw('auth-blanks', 'auth value with extra blanks, a tab and trailing words', (s, h) => ({
    text: `>>>\n${h}${INFO}${authLine(s, h + INFO).replace('=', '=  ').replace(' ', '\t')} trailing words\n<<<\n${NUL}`,
    signed: h + INFO,
  })),
  lines('dup-same', 'a field twice with the same value', 'info=hello\ninfo=hello\n'),
  lines('dup-different', 'a field twice with different values', 'info=first\ninfo=second\n'),
  raw('crlf-lines', 'CRLF line ends (start and end markers plain), signed with the CRs in the values', (s, h) => {
    const body = (h + INFO).replaceAll('\n', '\r\n')
    return { text: `>>>\n${body}${authLine(s, body)}\r\n<<<\n${NUL}`, signed: body }
  }),
  raw('crlf-lines-nocr', 'CRLF line ends, signed over the lines without the CRs', (s, h) => {
    const body = (h + INFO).replaceAll('\n', '\r\n')
    return { text: `>>>\n${body}${authLine(s, h + INFO)}\r\n<<<\n${NUL}`, signed: h + INFO }
  }),
  raw('crlf-end', 'CRLF line ends including "<<<\\r\\n"', (s, h) => {
    const body = (h + INFO).replaceAll('\n', '\r\n')
    return { text: `>>>\n${body}${authLine(s, body)}\r\n<<<\r\n${NUL}`, signed: body }
  }),
  raw('crlf-tail', 'CRLF line ends on the last field and the auth line only, signed with the CR in the value', (s, h) => {
    const body = `${h}info=hello\r\n`
    return { text: `>>>\n${body}${authLine(s, body)}\r\n<<<\n${NUL}`, signed: body }
  }),
  raw('crlf-start', '">>>\\r\\n" start marker', (s, h) => ({ text: `>>>\r\n${h}${INFO}${authLine(s, h + INFO)}\n<<<\n${NUL}`, signed: h + INFO })),
  lines('cr-end-of-value', 'one value ends in a CR, signed with it', 'info=hello\r\n'),
  lines('cr-end-of-value-nocr', 'one value ends in a CR, signed without it', 'info=hello\r\n', INFO),
  lines('cr-in-value', 'a CR inside one value, signed as sent', 'info=hel\rlo\n'),
  lines('cr-in-name', 'a CR inside a name, signed as sent', 'in\rfo=hello\n'),
  lines('no-equals', "a line without '=' before a field, signed as sent", `garbage\n${INFO}`),
  // 3.0.6 reads the name across the newline ("garbage\ninfo") and then the next line again as a field.
  lines('no-equals-odd', "a line without '=' before a field, signed as 3.0.6 re-renders it", `garbage\n${INFO}`, `garbage\n${INFO}${INFO}`),
  raw('no-equals-last', "a line without '=' just before <<<", (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}\ngarbage\n<<<\n${NUL}`, signed: h + INFO })),
  lines('blank-spaces-line', 'a line of spaces before a field, signed as sent', `   \n${INFO}`),
  lines('blank-spaces-odd', 'a line of spaces before a field, signed as 3.0.6 re-renders it', `   \n${INFO}`, `   \n${INFO}${INFO}`),
  lines('space-before-eq', "a space before '='", 'info =hello\n'),
  lines('space-after-eq', "a space after '='", 'info= hello\n'),
  lines('leading-space', 'a line starting with a space', ` ${INFO}`),
  lines('tab-trailing', 'a tab and trailing spaces in a value', 'info=\thello  \n'),
  lines('empty-value', 'an empty value', 'info=\n'),
  lines('empty-name', "a line starting with '='", '=hello\n'),
  lines('value-equals', "'=' inside a value", 'info=a=b\n'),
  lines('name-space', 'a name with a space inside', 'my info=hello\n'),
  lines('latin1', 'a byte above 0x7f in a value', 'info=caf\xe9\n'),
  lines('dc3', 'a DC3 (escaped newline) in a value', 'info=line1\x13line2\n'),
  lines('type-zero', 'a "(0)" type prefix on a string field', '(0)info=hello\n'),
  lines('binary', 'a "(1)" binary field in padded base64', '(1)blob=AAEC/w==\n'),
  lines('binary-unpadded', 'a binary field in unpadded base64, signed as 3.0.6 re-renders it', '(1)blob=AAEC/w\n', '(1)blob=AAEC/w==\n'),
  lines('binary-unpadded-sent', 'a binary field in unpadded base64, signed as sent', '(1)blob=AAEC/w\n'),
  lines('name-start-marker', 'a name starting with ">>>"', '>>>info=hello\n'),
  raw('end-after-value', 'no "<<<" line: the data ends right after the auth value', (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}`, signed: h + INFO })),
  raw('end-after-value-nul', 'no "<<<" line: the auth value, then the NUL', (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}${NUL}`, signed: h + INFO })),
  raw('end-newline', 'no "<<<" line: the data ends with a newline', (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}\n`, signed: h + INFO })),
  raw('end-newline-nul', 'no "<<<" line: a newline, then the NUL', (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}\n${NUL}`, signed: h + INFO })),
  raw('end-no-newline', '"<<<" with no newline after it', (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}\n<<<`, signed: h + INFO })),
  raw('junk-after-end', 'bytes after "<<<\\n"', (s, h) => ({ text: `>>>\n${h}${INFO}${authLine(s, h + INFO)}\n<<<\nno equals here\n${NUL}`, signed: h + INFO })),
  raw('nul-in-value', 'a NUL inside the last value, the auth line before it', (s, h) => ({
    text: `>>>\n${h}${authLine(s, `${h}info=hel\n`)}\ninfo=hel${NUL}lo\n<<<\n${NUL}`,
    signed: `${h}info=hel\n`,
  })),
  raw('nul-before-auth', 'a NUL inside a value before the auth line', (s, h) => ({ text: `>>>\n${h}info=hel${NUL}lo\n${authLine(s, h + INFO)}\n<<<\n${NUL}`, signed: h + INFO })),
  lines('long-1k', 'a 1000-byte value', `info=${'x'.repeat(1000)}\n`),
  lines('long-30k', 'a 30000-byte value', `info=${'x'.repeat(30000)}\n`),
  lines('long-60k', 'a 60000-byte value (the datagram stays under 64 KB)', `info=${'x'.repeat(60000)}\n`),
  lines('many-fields', '500 more fields', `${Array.from({ length: 500 }, (_, i) => `f${i}=v${i}\n`).join('')}${INFO}`),
]

/** A `status` heartbeat (st=active) from the probe's node; no `protocol` field, so 3.0.6 needs no acks from it. */
export function statusDatagram(s: ProbeSender, seq: number, deadtimeMs: number): Buffer {
  const body = `t=status\nst=active\ndt=${hex(deadtimeMs)}\nsrc=${s.src}\nseq=${hex(seq)}\nhg=${hex(s.hg)}\nts=${hex(s.ts)}\n`
  return framed(s, body).bytes
}
