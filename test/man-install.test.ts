// The package as an admin installs it: `npm pack` + `npm install -g` puts the commands on PATH and the
// man pages where `man` finds them (package.json "man"), and every page names no source file.

import t from 'tap'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { REPO } from './cli/heartbeat-kit.js'

t.test('no man page sends the reader to a source file; one date and version in every header', async (t) => {
  const pages = (await readdir(join(REPO, 'man'))).filter((f) => /\.[1-8]$/.test(f))
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string; man: string[] }
  t.same([...pkg.man].sort(), pages.map((p) => `./man/${p}`).sort(), 'package.json "man" lists every page')
  const headers = new Set<string>()
  for (const page of pages) {
    const text = await readFile(join(REPO, 'man', page), 'utf8')
    t.notMatch(text, /\b(lib|test|bench|dist)\/[\w./\\-]+\.(ts|js)\b/, `${page} names no source file`)
    const th = /^\.TH \S+ \d+ ("[^"]*" "[^"]*")/m.exec(text)?.[1]
    t.ok(th, `${page} has a .TH line`)
    if (th !== undefined) headers.add(th)
  }
  t.same([...headers], [`"2026-12" "heartbeat-ts ${pkg.version}"`], 'one date and the package version in every header')
})

t.test('npm pack + npm install -g: commands on PATH, man hbctl works', async (t) => {
  if (!existsSync(join(REPO, 'dist', 'lib', 'cli', 'hbctl.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
  const dir = await mkdtemp(join(tmpdir(), 'hbts-pack-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pack = await execa('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO, reject: false, timeout: 120_000 })
  t.equal(pack.exitCode, 0, pack.stderr)
  const tarball = join(dir, pack.stdout.trim().split('\n').pop() ?? '')
  const prefix = join(dir, 'prefix')
  const install = await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { reject: false, timeout: 300_000 })
  t.equal(install.exitCode, 0, install.stderr)
  const version = await execa(join(prefix, 'bin', 'hbctl'), ['--version'], { reject: false, timeout: 30_000 })
  t.match(version.stdout, /^hbctl 3\.0\.6 \(heartbeat-ts \d+\.\d+\.\d+\)$/, 'hbctl on PATH')
  const manpath = join(prefix, 'share', 'man')
  for (const page of ['hbctl', 'heartbeat', 'heartbeat-ts.conf', 'ha.cf']) {
    const where = await execa('man', ['-M', manpath, '-w', page], { reject: false, timeout: 30_000 })
    t.equal(where.exitCode, 0, `man -w ${page}`)
    t.ok(where.stdout.startsWith(prefix), `man -w ${page} finds the installed page: ${where.stdout.trim()}`)
  }
  const shown = await execa('man', ['-M', manpath, '-P', 'cat', 'hbctl'], { reject: false, timeout: 30_000, env: { MANWIDTH: '80', LANG: 'C.UTF-8' } })
  t.equal(shown.exitCode, 0, shown.stderr)
  t.match(shown.stdout, /^NAME\n\s+hbctl/m, 'man hbctl renders')
})
