// `npm run bench`: runs each benchmark module in turn and prints its figures. Nothing is asserted.
// A module exports `run(): Promise<void>`; name one on the command line to run only it.

const all = ['codec', 'forged', 'membership', 'failover', 'daemon', 'flood']

async function main(argv: string[]): Promise<number> {
  const names = argv.length > 0 ? argv : all
  let failed = 0
  for (const name of names) {
    process.stdout.write(`\n== bench: ${name} ==\n`)
    try {
      // Resolved at run time so each benchmark can live in its own file.
      const mod = (await import(new URL(`./${name}.js`, import.meta.url).href)) as { run: () => Promise<void> }
      await mod.run()
    } catch (err) {
      failed++
      process.stdout.write(`bench ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`)
    }
  }
  return failed === 0 ? 0 : 1
}

process.exitCode = await main(process.argv.slice(2))
