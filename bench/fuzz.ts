// `npm run fuzz [COUNT] [SEED]`: the decoder and every config reader on random and mutated input.
// A failure is an exception escaping a reader or the decoder; the run prints each one and exits 1.

interface FuzzResult {
  cases: number
  failures: string[]
}

const targets: Array<[string, string, string]> = [
  ['wire decoder', './fuzz-wire.js', 'fuzzDecoder'],
  ['config readers', './fuzz-config.js', 'fuzzReaders'],
]

async function main(argv: string[]): Promise<number> {
  const count = Number(argv[0] ?? 100_000)
  const seed = Number(argv[1] ?? Date.now() % 2 ** 31)
  if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(seed)) {
    process.stderr.write('usage: npm run fuzz [COUNT] [SEED]\n')
    return 2
  }
  let failures = 0
  for (const [label, file, fn] of targets) {
    const mod = (await import(new URL(file, import.meta.url).href)) as Record<string, (n: number, s: number) => FuzzResult>
    const run = mod[fn]
    if (!run) throw new Error(`${file} does not export ${fn}`)
    const started = process.hrtime.bigint()
    const result = run(count, seed)
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    process.stdout.write(`${label}: ${result.cases} cases, ${result.failures.length} failures, seed ${seed}, ${ms.toFixed(0)} ms\n`)
    for (const f of result.failures.slice(0, 20)) process.stdout.write(`  ${f}\n`)
    failures += result.failures.length
  }
  return failures === 0 ? 0 : 1
}

process.exitCode = await main(process.argv.slice(2))
