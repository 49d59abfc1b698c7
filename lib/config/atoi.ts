// C atoi() as heartbeat uses it (config readers, NS_rexmit's firstseq/lastseq): the one decimal-prefix reader.

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

/** atoi(): the decimal prefix, 0 when there is none (or no text at all). */
export function atoi(text: string | undefined): number {
  return text === undefined ? 0 : scanAtoi(text).value
}
