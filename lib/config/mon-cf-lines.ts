// mon.cf logical lines (mon read_cf): whole-line `#` comments vanish, a trailing `\` joins the next line.

export interface LogicalLine {
  /** The 1-based number of its first physical line. */
  line: number
  /** Trimmed text, continuation lines joined. */
  text: string
  /** Whether it started with a blank (mon's watch blocks are indented). */
  indented: boolean
  blank: boolean
}

export function logicalLines(text: string): LogicalLine[] {
  const physical = text.split(/\r?\n/)
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop()
  const out: LogicalLine[] = []
  let i = 0
  while (i < physical.length) {
    const first = physical[i] as string
    const line = i + 1
    i++
    // mon: a comment line is skipped; unlike an empty line it does not end a record.
    if (/^\s*#/.test(first)) continue
    let joined = first
    // the joined line loses its leading blanks
    while (/\\\s*$/.test(joined) && i < physical.length) {
      joined = joined.replace(/\\\s*$/, '') + (physical[i] as string).replace(/^\s+/, '')
      i++
    }
    joined = joined.replace(/\\\s*$/, '')
    const trimmed = joined.trim()
    out.push({ line, text: trimmed, indented: /^\s/.test(joined), blank: trimmed === '' })
  }
  return out
}

/** The first blank-separated word of a logical line. */
export function firstWord(ll: LogicalLine): string {
  return ll.text.split(/\s+/)[0] ?? ''
}
