// Datagrams an attacker without the key can send: the worst cases for a receiver that parses before it
// checks the signature (issue 10), plain garbage, and replays. Shared by the unit test, the bench and the
// flood host, so all three measure the same bytes.

import { seededRandom } from '../support/seeded-random.js'

/** Every forged datagram stays a valid UDP/IPv4 payload (≤ 65507 bytes). */
export const FORGED_MAX_BYTES = 65507

/** A trailer with the right shape and a wrong digest: `42:1 <40 hex>,` (sha1-sized). */
const FAKE_TRAILER = `42:1 ${'0'.repeat(40)},`
/** A classic auth line with the right shape and a wrong digest. */
const FAKE_AUTH_LINE = `auth=1 ${'0'.repeat(40)}\n`

export interface Forged {
  /** Short name for tables and logs. */
  name: string
  bytes: Buffer
}

/** One netstring field holding ~64 KB (the "one 64 KB field": one big allocation before the check). */
export function bigNetstringField(): Buffer {
  const head = '###\n'
  const tail = `%%%\n${FAKE_TRAILER}`
  // LEN:(0)pad=<x…>, — pick the value size so the whole datagram is exactly FORGED_MAX_BYTES.
  let valueLen = FORGED_MAX_BYTES - head.length - tail.length - '(0)pad='.length - 2
  for (;;) {
    const payload = 7 + valueLen
    const total = head.length + String(payload).length + 1 + payload + 1 + tail.length
    if (total <= FORGED_MAX_BYTES) break
    valueLen--
  }
  const payload = `(0)pad=${'x'.repeat(valueLen)}`
  return Buffer.from(`${head}${payload.length}:${payload},${tail}`, 'latin1')
}

/** As many tiny well-formed netstring fields as fit (thousands of field objects before the check). */
export function manyNetstringFields(): Buffer {
  const tail = `%%%\n${FAKE_TRAILER}`
  const parts: string[] = ['###\n']
  let size = 4 + tail.length
  for (let i = 0; ; i++) {
    // `(0)fNNN=` with an empty value: distinct names, so nothing could dedupe them.
    const payload = `(0)f${i.toString(36)}=`
    const field = `${payload.length}:${payload},`
    if (size + field.length > FORGED_MAX_BYTES) break
    parts.push(field)
    size += field.length
  }
  parts.push(tail)
  return Buffer.from(parts.join(''), 'latin1')
}

/** As many classic `name=value` lines as fit, with a wrong `auth` line last. */
export function manyClassicLines(): Buffer {
  const tail = `${FAKE_AUTH_LINE}<<<\n`
  const parts: string[] = ['>>>\n']
  let size = 4 + tail.length
  for (let i = 0; ; i++) {
    const line = `f${i.toString(36)}=v${i}\n`
    if (size + line.length > FORGED_MAX_BYTES) break
    parts.push(line)
    size += line.length
  }
  parts.push(tail)
  return Buffer.from(parts.join(''), 'latin1')
}

/** Classic lines separated by blank lines: the signed text is then not one slice of the datagram. */
export function classicBlankLines(): Buffer {
  const tail = `${FAKE_AUTH_LINE}<<<\n`
  const parts: string[] = ['>>>\n']
  let size = 4 + tail.length
  for (let i = 0; ; i++) {
    const line = `a${i % 10}=\n\n`
    if (size + line.length > FORGED_MAX_BYTES) break
    parts.push(line)
    size += line.length
  }
  parts.push(tail)
  return Buffer.from(parts.join(''), 'latin1')
}

/** Random bytes (seeded), optionally behind a start marker so the decoder gets past the first check. */
export function garbage(seed: number, prefix = ''): Buffer {
  const rng = seededRandom(seed)
  const body = Buffer.alloc(FORGED_MAX_BYTES - prefix.length)
  for (let i = 0; i < body.length; i++) body[i] = Math.floor(rng() * 256)
  return Buffer.concat([Buffer.from(prefix, 'latin1'), body])
}

/** The worst cases and the garbage, each one max-size datagram. Replays come from captures (see the flood host). */
export function forgedSet(): Forged[] {
  return [
    { name: 'netstring, one 64 KB field', bytes: bigNetstringField() },
    { name: 'netstring, empty fields', bytes: manyNetstringFields() },
    { name: 'classic, short lines', bytes: manyClassicLines() },
    { name: 'classic, blank lines between', bytes: classicBlankLines() },
    { name: 'garbage', bytes: garbage(1) },
    { name: 'garbage after ###', bytes: garbage(2, '###\n') },
    { name: 'garbage after >>>', bytes: garbage(3, '>>>\n') },
  ]
}
