// "did you mean" hints for misspelt directives and keywords (Levenshtein edit distance).

/** Edit distance: insert, delete, substitute and swap two neighbours each cost 1 (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1)
      current[j] = d
    }
    before = previous
    previous = current
  }
  return previous[b.length] ?? 0
}

/**
 * The closest candidate, if it is close enough to be a plausible typo: at most a third of
 * the word's length (at least 1, at most 3) edits away. A case-only difference always counts.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64) return undefined
  const lower = word.toLowerCase()
  const byCase = candidates.find((c) => c.toLowerCase() === lower)
  if (byCase !== undefined) return byCase
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  let best: string | undefined
  let bestDistance = limit + 1
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** ` (did you mean "x"?)` or the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const hint = closest(word, candidates)
  return hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`
}
