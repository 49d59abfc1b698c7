// `npm run bench`: runs each benchmark module in turn and prints its figures. Nothing is asserted.
// A module exports `run(opts): Promise<void>`; name one on the command line to run only it. `--name value`
// options go to every module named (e.g. `npm run bench -- compare --runs 5`, `npm run bench -- fast --seconds 600`).

/** The default run; `compare` (heartbeat-ts vs 3.0.6, ~30 min) runs only when named. */
const all = ['codec', 'forged', 'membership', 'failover', 'fast', 'daemon', 'flood']

type Run = (opts: Record<string, string>) => Promise<void>

function parseArgs(argv: readonly string[]): { names: string[]; opts: Record<string, string> } {
  const names: string[] = []
  const opts: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ''
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a)
    if (m === null) {
      names.push(a)
      continue
    }
    const key = m[1] ?? ''
    if (m[2] !== undefined) opts[key] = m[2]
    else if (i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('--')) opts[key] = argv[++i] ?? ''
    else opts[key] = 'true'
  }
  return { names, opts }
}

async function main(argv: string[]): Promise<number> {
  const { names: named, opts } = parseArgs(argv)
  const names = named.length > 0 ? named : all
  let failed = 0
  for (const name of names) {
    process.stdout.write(`\n== bench: ${name} ==\n`)
    try {
      // Resolved at run time so each benchmark can live in its own file.
      const mod = (await import(new URL(`./${name}.js`, import.meta.url).href)) as { run: Run }
      await mod.run(opts)
    } catch (err) {
      failed++
      process.stdout.write(`bench ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`)
    }
  }
  return failed === 0 ? 0 : 1
}

process.exitCode = await main(process.argv.slice(2))
