// The layering of lib/ (test/support/architecture-check.ts): pure cores without I/O, clocks or timers,
// and no import from a layer above. Proved on a planted tree first, so the check cannot pass by being blind.

import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { checkFile, isPure, type Violation } from './support/architecture-check.js'

const REPO = resolve(import.meta.dirname, '..')

function checkTree(tree: Readonly<Record<string, string>>): Violation[] {
  return Object.entries(tree).flatMap(([file, text]) => checkFile(file, text))
}

t.test('a planted tree: every kind of violation is caught, and clean files pass', async (t) => {
  const planted: Record<string, string> = {
    'lib/cluster/clean.ts': "import type { Socket } from 'node:dgram'\nimport { x } from './other.js'\n// Date.now() in a comment is fine\nexport const s = 'setTimeout(' + x\n",
    'lib/wire/digest.ts': "import { createHmac } from 'node:crypto'\n",
    'lib/cluster/io.ts': "import { readFile } from 'node:fs/promises'\n",
    'lib/resources/bare.ts': "import { readFileSync } from 'fs'\n",
    'lib/config/exec.ts': "import { execa } from 'execa'\n",
    'lib/monitor/clock.ts': 'export const now = () => Date.now()\nexport const d = new Date()\nexport const r = Math.random()\n',
    'lib/control/timer.ts': 'setTimeout(() => undefined, 5)\nexport const e = process.env.HOME\n',
    'lib/resources/dyn.ts': "export const m = await import('./x.js')\nconst r = require('./y.js')\n",
    'lib/daemon/plugin.ts': 'export const m = await import(process.env.HBTS_DAEMON_MODULE ?? "")\n',
    'lib/io/inverted.ts': "import { main } from '../cli/init-verbs.js'\n",
    'lib/agents/lvs.ts': "import { daemonPaths } from '../daemon/paths.js'\n",
    'lib/agents/ipaddr-plan.ts': "import { run } from './agent-exec.js'\nimport { stat } from 'node:fs'\n",
    'lib/cluster/up.ts': "export { x } from '../io/udp-media.js'\n",
    'lib/cli/fine.ts': "import { runDaemon } from '../daemon/run.js'\nimport { Membership } from '../cluster/membership.js'\n",
  }
  const found = checkTree(planted).map((v) => `${v.file}:${v.line}: ${v.rule}`)
  t.same(found.sort(), [
    'lib/agents/ipaddr-plan.ts:1: imports from a layer above (agents → agents: lib/agents/agent-exec.ts)',
    'lib/agents/ipaddr-plan.ts:2: pure file imports node:fs',
    'lib/agents/lvs.ts:1: imports from a layer above (agents → daemon: lib/daemon/paths.ts)',
    'lib/cluster/io.ts:1: pure file imports node:fs/promises',
    'lib/cluster/up.ts:1: imports from a layer above (cluster → io: lib/io/udp-media.ts)',
    "lib/config/exec.ts:1: pure file imports execa",
    'lib/control/timer.ts:1: pure file arms a timer (setTimeout)',
    'lib/control/timer.ts:2: pure file reads the environment',
    'lib/daemon/plugin.ts:1: loads code from a computed name',
    'lib/io/inverted.ts:1: imports from a layer above (io → cli: lib/cli/init-verbs.ts)',
    'lib/monitor/clock.ts:1: pure file reads the clock or a random source (Date.now)',
    'lib/monitor/clock.ts:2: pure file reads the clock (new Date())',
    'lib/monitor/clock.ts:3: pure file reads the clock or a random source (Math.random)',
    'lib/resources/bare.ts:1: built-in module named without node: (\'fs\')',
    'lib/resources/bare.ts:1: pure file imports fs',
    'lib/resources/dyn.ts:1: pure file loads code dynamically',
    'lib/resources/dyn.ts:2: pure file loads code dynamically',
  ].sort())
  t.ok(isPure('lib/agents/lvs-table.ts') && !isPure('lib/agents/lvs.ts'), "the agents' planners are pure, their runners are not")
})

async function libFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await libFiles(p)))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

t.test('lib/ keeps the layering', async (t) => {
  const files = await libFiles(join(REPO, 'lib'))
  t.ok(files.length > 80, `${files.length} files under lib/`)
  const violations: string[] = []
  for (const f of files) {
    const rel = relative(REPO, f).split('\\').join('/')
    for (const v of checkFile(rel, await readFile(f, 'utf8'))) violations.push(`${v.file}:${v.line}: ${v.rule}: ${v.text}`)
  }
  t.same(violations, [], 'no violation')
})
