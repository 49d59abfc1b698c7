// Why a datagram was refused: one code per kind of defect, plus a sentence that says what was wrong.

export type DecodeErrorCode =
  /** Zero bytes. */
  | 'empty'
  /** Larger than any IPv4 UDP payload can be. */
  | 'oversize'
  /** Starts with neither `>>>\n` (classic) nor `###\n` (netstring). */
  | 'bad-start'
  /** The data ends inside a length, a field, the `%%%\n` end marker or the trailer. */
  | 'truncated'
  /** A netstring length that is not plain decimal, or a missing `:`/`,` around it. */
  | 'bad-length'
  /** A field heartbeat cannot take: no `(N)` prefix (3.0.6 aborts on it), no `=`, an empty name. */
  | 'bad-field'
  /** A type digit outside 0..5, `(0)` in classic text, or a struct/list in classic text. */
  | 'bad-type'
  /** A value its type does not allow: NUL in a string, bad base64, a malformed nested struct. */
  | 'bad-value'
  /** No signature at all: no trailer after `%%%\n`, or no `auth` field in classic text. */
  | 'no-auth'
  /** A signature that does not read as `<index> <digest>`. */
  | 'bad-auth'
  /** The signature names an index outside 0..15 or one authkeys does not configure. */
  | 'unknown-key-index'
  /** The digest does not match: altered packet or another key. */
  | 'bad-signature'

export interface DecodeFailure {
  ok: false
  code: DecodeErrorCode
  reason: string
}

export function failure(code: DecodeErrorCode, reason: string): DecodeFailure {
  return { ok: false, code, reason }
}

/** Show up to `max` bytes of wire data in a reason, JSON-quoted so control bytes stay visible. */
export function excerpt(bytes: Uint8Array, max = 24): string {
  const cut = bytes.length > max ? bytes.subarray(0, max) : bytes
  const text = JSON.stringify(Buffer.from(cut).toString('latin1'))
  return bytes.length > max ? `${text}…` : text
}
