// The pure cores take time as an argument and return effects as values: no I/O, no clock, no timers.
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const pureDirs = ['lib/config', 'lib/wire', 'lib/cluster', 'lib/resources', 'lib/monitor']
const forbidden: Array<[RegExp, string]> = [
  [/from ['"]node:(dgram|net|child_process|fs|fs\/promises|http|os|timers)['"]/, 'an I/O module import'],
  [/from ['"]execa['"]/, 'execa'],
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\s*\(\s*\)/, 'new Date() (reads the clock)'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'a timer'],
  [/\bperformance\./, 'performance'],
  [/\bprocess\.(hrtime|env|uptime)/, 'process state'],
  [/\bMath\.random\s*\(/, 'Math.random (inject the random source)'],
]

function tsFiles(dir: string): string[] {
  let out: string[] = []
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of names) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out = out.concat(tsFiles(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

const files = pureDirs.flatMap(tsFiles)
t.ok(files.length > 0, 'there are pure-core files to check')
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n')
  const hits: string[] = []
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '')
    for (const [re, what] of forbidden) if (re.test(code)) hits.push(`${file}:${i + 1}: ${what}: ${line.trim()}`)
  })
  t.same(hits, [], `${file} is free of I/O, clocks and timers`)
}
