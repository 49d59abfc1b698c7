// Config reads are bounded: a file that never ends (a link to /dev/zero) or a huge one is refused as "file too large".
import t from 'tap'
import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatDiagnostic } from '../../lib/config/diagnostics.js'
import { CONFIG_MAX_BYTES, loadConfig } from '../../lib/daemon/load-config.js'
import { main as check } from '../../lib/cli/hbctl-check.js'

const example = (rel: string): string => fileURLToPath(new URL(`../../ha.d-example/${rel}`, import.meta.url))
process.env.HBTS_MON_CF = '/nonexistent/bounded-reads-test/mon.cf'

function install(dir: string): string {
  const haDir = join(dir, 'ha.d')
  mkdirSync(haDir, { recursive: true })
  for (const name of readdirSync(example('modern/ha.d'))) copyFileSync(join(example('modern/ha.d'), name), join(haDir, name))
  chmodSync(join(haDir, 'authkeys'), 0o600)
  return haDir
}

async function quietly<T>(f: () => Promise<T>): Promise<{ value: T; out: string }> {
  let out = ''
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true))
  try {
    return { value: await f(), out }
  } finally {
    process.stdout.write = write
  }
}

t.test('a haresources linked to /dev/zero is refused after at most 1 MiB', async (t) => {
  t.equal(CONFIG_MAX_BYTES, 1024 * 1024)
  const haDir = install(t.testdir())
  symlinkSync('/dev/zero', join(haDir, 'haresources.zero'))
  copyFileSync(join(haDir, 'haresources'), join(haDir, 'haresources.orig'))
  const { rmSync, renameSync } = await import('node:fs')
  rmSync(join(haDir, 'haresources'))
  renameSync(join(haDir, 'haresources.zero'), join(haDir, 'haresources'))
  const before = process.memoryUsage().rss
  const r = await loadConfig(haDir, 'director1', true)
  t.equal(r.ok, false, 'the daemon does not start')
  t.same(r.diagnostics.map(formatDiagnostic), [`${haDir}/haresources: file too large (more than 1 MiB); a config file is a few KB`])
  t.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'no more than a few MB were used')
  const c = await quietly(() => check(['--ha-dir', haDir, '--node', 'director1']))
  t.equal(c.value, 1, 'hbctl check fails too')
  t.match(c.out, `${haDir}/haresources: error: file too large (more than 1 MiB)`)
})

t.test('every file the daemon reads is bounded: ha.cf, authkeys', async (t) => {
  for (const name of ['ha.cf', 'authkeys']) {
    const haDir = install(join(t.testdir(), name))
    writeFileSync(join(haDir, name), `# ${'x'.repeat(CONFIG_MAX_BYTES)}\n`, { mode: 0o600 })
    const r = await loadConfig(haDir, 'director1', true)
    t.equal(r.ok, false)
    t.match(r.diagnostics.map(formatDiagnostic).join('\n'), `${haDir}/${name}: file too large (more than 1 MiB)`)
  }
})
