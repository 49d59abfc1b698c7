// A duplicate `node` line is an error with its place, at start and in hbctl check (the daemon used to die on a stack trace).
import t from 'tap'
import { copyFileSync, chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatDiagnostic } from '../../lib/config/diagnostics.js'
import { loadConfig } from '../../lib/daemon/load-config.js'
import { main as check } from '../../lib/cli/hbctl-check.js'

const example = (rel: string): string => fileURLToPath(new URL(`../../ha.d-example/${rel}`, import.meta.url))
process.env.HBTS_MON_CF = '/nonexistent/duplicate-node-test/mon.cf'

t.test('node listed twice (in any case): the daemon refuses to start with path:line, and hbctl check says so', async (t) => {
  const haDir = join(t.testdir(), 'ha.d')
  mkdirSync(haDir)
  for (const name of readdirSync(example('modern/ha.d'))) copyFileSync(join(example('modern/ha.d'), name), join(haDir, name))
  chmodSync(join(haDir, 'authkeys'), 0o600)
  const haCf = readFileSync(join(haDir, 'ha.cf'), 'utf8')
  const firstNodeLine = haCf.split('\n').findIndex((l) => /^node\s+director1\b/.test(l)) + 1
  t.ok(firstNodeLine > 0)
  writeFileSync(join(haDir, 'ha.cf'), `${haCf}node Director1\n`)
  const dupLine = haCf.split('\n').length
  const message = `node "Director1" is listed twice (first on line ${firstNodeLine}); heartbeat-ts refuses a duplicate node (heartbeat 3.0.6 would count it twice)`
  const r = await loadConfig(haDir, 'director1', true)
  t.equal(r.ok, false, 'no start')
  t.same(r.diagnostics.map(formatDiagnostic), [`${haDir}/ha.cf:${dupLine}: ${message}`])
  let out = ''
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true))
  let code: number
  try {
    code = await check(['--ha-dir', haDir, '--node', 'director1'])
  } finally {
    process.stdout.write = write
  }
  t.equal(code, 1, 'hbctl check: heartbeat would not start')
  t.match(out, `${haDir}/ha.cf:${dupLine}: error: ${message}`)
})
