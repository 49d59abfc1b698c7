// Reads a signature string (`auth=` field or trailer payload) the way heartbeat's sscanf("%d %s") does.

export interface AuthValue {
  /** The key index; -1 when the digits overflow (never a valid index). */
  index: number
  /** The digest token as written (compared exactly: case and zero-padding matter). */
  token: string
}

// isspace() in the C locale.
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

// auth.c / cl_netstring.c: a digest buffer of MAXLINE (5120) bytes, one for the NUL.
export const MAX_DIGEST_TOKEN = 5119

/**
 * `"%d %s"`: blanks, an optionally signed decimal, blanks, one non-blank word; the rest is
 * ignored (§14.6: a tab works, trailing tokens are ignored). A NUL ends the C string.
 */
export function parseAuthValue(text: string): AuthValue | undefined {
  const nul = text.indexOf('\0')
  const s = nul >= 0 ? text.slice(0, nul) : text
  let i = 0
  while (i < s.length && isSpace(s.charCodeAt(i))) i++
  let negative = false
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-'
    i++
  }
  const digitsStart = i
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++
  if (i === digitsStart) return undefined
  const digits = s.slice(digitsStart, i)
  // More than 9 digits cannot be an index 0..15; keep it out of range rather than overflow.
  let index = digits.length > 9 ? -1 : Number(digits)
  if (negative && index > 0) index = -index
  while (i < s.length && isSpace(s.charCodeAt(i))) i++
  const tokenStart = i
  while (i < s.length && !isSpace(s.charCodeAt(i))) i++
  if (i === tokenStart) return undefined
  return { index, token: s.slice(tokenStart, i) }
}
