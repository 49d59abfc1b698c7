// Test kit: hand-built datagrams with valid signatures, so a test can reach the check it means to hit.
import { computeDigest } from '../../lib/wire/digest.js'
import { classicSignatureText, parseClassicText } from '../../lib/wire/classic.js'
import type { AuthKeys, AuthMethod } from '../../lib/wire/auth-keys.js'

export function keysOf(active: number, ...entries: Array<[number, AuthMethod, string]>): AuthKeys {
  return { active, keys: new Map(entries.map(([i, method, key]) => [i, { method, key: Buffer.from(key, 'latin1') }])) }
}

export const sha1Keys = keysOf(1, [1, 'sha1', 'HI!'])

/** `body` (from `###\n` through `%%%\n`) plus a trailer signed with index `index`, `method`, `key`. */
export function signNetstring(body: string, index: number, method: AuthMethod, key: string): Buffer {
  const b = Buffer.from(body, 'latin1')
  const payload = `${index} ${computeDigest(method, Buffer.from(key, 'latin1'), b)}`
  return Buffer.concat([b, Buffer.from(`${payload.length}:${payload},`, 'latin1')])
}

/** The digest the classic `auth` field of `text` must carry (computed over the receiver's re-rendering). */
export function classicDigest(text: string, method: AuthMethod, key: string): string {
  const parsed = parseClassicText(Buffer.from(text, 'latin1'))
  if (!parsed.ok) throw new Error(`kit: ${parsed.reason}`)
  const signed = classicSignatureText(parsed.msg)
  if (!signed) throw new Error('kit: no classic rendering')
  return computeDigest(method, Buffer.from(key, 'latin1'), signed)
}
