// The three authkeys(5) digests as heartbeat 3.0.6's HBauth plugins print them: crc, HMAC-MD5, HMAC-SHA1.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import type { AuthMethod } from './auth-keys.js'

// crc.c: polynomial 0x04C11DB7, MSB first, no reflection, start 0 (POSIX cksum without the length).
const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i << 24
    for (let bit = 0; bit < 8; bit++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1
    table[i] = c >>> 0
  }
  return table
})()

/** heartbeat's crc digest: lowercase hex, no leading zeros (`printf("%lx")`), e.g. `27df41c`. */
export function crcDigest(data: Uint8Array): string {
  let crc = 0
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ (data[i] as number)) & 0xff] as number)) >>> 0
  }
  // crc.c: the final complement; the length is not mixed in.
  return (~crc >>> 0).toString(16)
}

// authkeys keys live as long as the configuration: import each into OpenSSL once, not per packet.
const keyObjects = new WeakMap<Uint8Array, KeyObject>()
function keyObject(key: Uint8Array): KeyObject {
  let k = keyObjects.get(key)
  if (k === undefined) keyObjects.set(key, (k = createSecretKey(key)))
  return k
}

/** The digest text of `method` over `data`; crc ignores the key (authkeys(5): crc takes none). */
export function computeDigest(method: AuthMethod, key: Uint8Array, data: Uint8Array): string {
  switch (method) {
    case 'crc':
      return crcDigest(data)
    case 'md5':
      return createHmac('md5', keyObject(key)).update(data).digest('hex')
    case 'sha1':
      return createHmac('sha1', keyObject(key)).update(data).digest('hex')
  }
}

/**
 * `token` equals `expected`, compared without an early exit (issue 10: a forger must not learn how
 * many leading digits were right). The length is no secret: it is fixed per method (crc excepted).
 */
export function digestMatches(expected: string, token: string): boolean {
  if (expected.length !== token.length) return false
  // Every character is looked at, whatever the first difference (no Buffers: this runs per packet).
  let diff = 0
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ token.charCodeAt(i)
  return diff === 0
}
