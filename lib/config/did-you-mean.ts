// "did you mean" hints for misspelt directives and keywords (Levenshtein edit distance).

/** Edit distance: insert, delete, substitute and swap two neighbours each cost 1 (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0
  const width = b.length + 1
  let before = new Int32Array(width)
  let previous = new Int32Array(width)
  let current = new Int32Array(width)
  for (let j = 0; j < width; j++) previous[j] = j
  for (let i = 1; i <= a.length; i++) {
    current[0] = i
    const ai = a.charCodeAt(i - 1)
    for (let j = 1; j < width; j++) {
      const bj = b.charCodeAt(j - 1)
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (ai === bj ? 0 : 1))
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) d = Math.min(d, (before[j - 2] ?? 0) + 1)
      current[j] = d
    }
    const spare = before
    before = previous
    previous = current
    current = spare
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
  const lowered = lowerCase(candidates)
  const byCase = lowered.indexOf(lower)
  if (byCase >= 0) return candidates[byCase]
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  let best: string | undefined
  let bestDistance = limit + 1
  for (const [i, candidate] of lowered.entries()) {
    // the distance is at least the difference in length
    if (Math.abs(candidate.length - lower.length) >= bestDistance) continue
    const d = editDistance(lower, candidate)
    if (d < bestDistance) {
      best = candidates[i]
      bestDistance = d
    }
  }
  return best
}

const loweredLists = new WeakMap<readonly string[], string[]>()

function lowerCase(candidates: readonly string[]): string[] {
  let lowered = loweredLists.get(candidates)
  if (lowered === undefined) {
    lowered = candidates.map((c) => c.toLowerCase())
    loweredLists.set(candidates, lowered)
  }
  return lowered
}

/** ` (did you mean "x"?)` or the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const hint = closest(word, candidates)
  return hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`
}
