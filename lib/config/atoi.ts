// C atoi() as heartbeat's config readers use it: the one decimal-prefix reader of the config folder.

export interface AtoiResult {
  /** What atoi returns: the decimal prefix, 0 when there is none. */
  value: number
  /** Whether there was at least one digit. */
  digits: boolean
  /** Whether the digits were the whole text (nothing ignored after them). */
  clean: boolean
}

/** Optional blanks and sign, then digits; stops at the first other character. */
export function scanAtoi(text: string): AtoiResult {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d*)/.exec(text)
  const digits = m?.[2] ?? ''
  const sign = m?.[1] === '-' ? -1 : 1
  // beyond 15 digits the value overflows C's int anyway; keep it a safe integer
  const value = digits === '' ? 0 : sign * Number(digits.slice(0, 15))
  return { value, digits: digits !== '', clean: digits !== '' && (m?.[0].length ?? 0) === text.length }
}

export function atoi(text: string): number {
  return scanAtoi(text).value
}
