// Argument words of mon's monitor/alert lines: Text::ParseWords-style splitting and the en-dash repair.

export type SplitWordsResult = { ok: true; words: string[] } | { ok: false; reason: string }

/**
 * Split like Perl's `quotewords('\s+', 0, $line)`, which mon uses for monitor and alert
 * lines: blanks separate words, single/double quotes group and are removed, a backslash
 * escapes the next character (inside single quotes only `\\` and `\'`). An unbalanced quote
 * is an error (quotewords returns nothing in that case).
 */
export function splitWords(text: string): SplitWordsResult {
  const words: string[] = []
  let cur = ''
  let inWord = false
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (/\s/.test(c)) {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
      i++
      continue
    }
    inWord = true
    if (c === '\\') {
      if (i + 1 < text.length) cur += text[i + 1]
      i += 2
      continue
    }
    if (c === '"' || c === "'") {
      const close = findClose(text, i + 1, c)
      if (close < 0) return { ok: false, reason: `unbalanced ${c === '"' ? 'double' : 'single'} quote` }
      const inner = text.slice(i + 1, close)
      cur += c === '"' ? inner.replace(/\\(.)/gs, '$1') : inner.replace(/\\([\\'])/g, '$1')
      i = close + 1
      continue
    }
    cur += c
    i++
  }
  if (inWord) words.push(cur)
  return { ok: true, words }
}

function findClose(text: string, from: number, q: string): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (c === '\\') {
      i++
      continue
    }
    if (c === q) return i
  }
  return -1
}

/** Dash look-alikes that word processors put in place of `-`: en-dash, em-dash, minus sign. */
const dashLike: Record<string, string> = { '\u2013': 'en-dash (U+2013)', '\u2014': 'em-dash (U+2014)', '\u2212': 'minus sign (U+2212)' }

export interface DashRepair {
  /** Index of the word in the list. */
  index: number
  original: string
  repaired: string
  /** Human name of the character, e.g. "en-dash (U+2013)". */
  what: string
}

/**
 * heartbeat-ts decision (docs §10 Q2): a word that starts with a dash look-alike followed by
 * a letter is read as an ASCII option (`–R` → `-R`). mon itself passes the bytes unchanged,
 * which made Getopt::Std stop parsing there.
 */
export function repairDashes(words: readonly string[]): { words: string[]; repairs: DashRepair[] } {
  const repairs: DashRepair[] = []
  const out = words.map((w, index) => {
    const what = dashLike[w.charAt(0)]
    if (what === undefined || !/^[A-Za-z]/.test(w.slice(1))) return w
    const repaired = `-${w.slice(1)}`
    repairs.push({ index, original: w, repaired, what })
    return repaired
  })
  return { words: out, repairs }
}
