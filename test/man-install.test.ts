// The package as an admin installs it (README, "Install on a node"): `npm pack` + `npm install -g` puts the
// commands on PATH and the man pages where `man` finds them from PATH alone (package.json "man"), the init
// files where the README's `install` lines take them from, and `npm uninstall -g` (the rollback) takes it
// all away again; every page names no source file.

import t from 'tap'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
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

t.test('npm pack + npm install -g: commands on PATH, man hbctl works, npm uninstall -g removes it all', async (t) => {
  if (!existsSync(join(REPO, 'dist', 'lib', 'cli', 'hbctl.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
  const dir = await mkdtemp(join(tmpdir(), 'hbts-pack-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pack = await execa('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO, reject: false, timeout: 120_000 })
  t.equal(pack.exitCode, 0, pack.stderr)
  const tarball = join(dir, pack.stdout.trim().split('\n').pop() ?? '')
  const npmGlobal = (prefix: string, ...args: string[]) =>
    execa('npm', [...args, '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'], { reject: false, timeout: 300_000 })

  // The README's prefix is /usr/local because NodeSource's npm would install into /usr, where
  // /usr/bin/cl_status is the Debian heartbeat package's: npm must refuse to overwrite it.
  const usr = join(dir, 'usr')
  await mkdir(join(usr, 'bin'), { recursive: true })
  await writeFile(join(usr, 'bin', 'cl_status'), '#!/bin/sh\necho the C cl_status\n', { mode: 0o755 })
  const clash = await npmGlobal(usr, 'install', tarball)
  t.not(clash.exitCode, 0, 'npm install -g into a prefix with its own bin/cl_status fails')
  t.match(clash.stderr, /EEXIST[\s\S]*cl_status/, 'and names cl_status')
  t.equal(await readFile(join(usr, 'bin', 'cl_status'), 'utf8'), '#!/bin/sh\necho the C cl_status\n', 'the C cl_status is left as it was')

  const prefix = join(dir, 'prefix')
  const install = await npmGlobal(prefix, 'install', tarball)
  t.equal(install.exitCode, 0, install.stderr)
  const bin = join(prefix, 'bin')
  // An admin's shell: the prefix's bin first on PATH, MANPATH unset (man finds <prefix>/share/man from PATH).
  const shell = (cmd: string) => execa('sh', ['-c', cmd], { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, MANWIDTH: '80', LANG: 'C.UTF-8' }, extendEnv: false, reject: false, timeout: 30_000 })
  const version = await shell('hbctl --version')
  t.match(version.stdout, /^hbctl 3\.0\.6 \(heartbeat-ts \d+\.\d+\.\d+\)$/, 'hbctl on PATH')
  t.equal((await shell('for c in heartbeat cl_status hb-mon; do command -v $c; done')).stdout, ['heartbeat', 'cl_status', 'hb-mon'].map((c) => join(bin, c)).join('\n'), 'heartbeat, cl_status, hb-mon on PATH')
  for (const page of ['hbctl', 'heartbeat', 'heartbeat-ts.conf', 'ha.cf', 'cl_status']) {
    const where = await shell(`man -w ${page}`)
    t.equal(where.exitCode, 0, `man -w ${page}`)
    t.ok(where.stdout.startsWith(prefix), `man -w ${page} finds the installed page first: ${where.stdout.trim()}`)
  }
  const shown = await shell('man -P cat hbctl')
  t.equal(shown.exitCode, 0, shown.stderr)
  t.match(shown.stdout, /^NAME\n\s+hbctl/m, 'man hbctl renders')
  // The README installs the init files from "$(npm root -g)/heartbeat-ts/init/…".
  const root = (await execa('npm', ['root', '-g', '--prefix', prefix], { reject: false, timeout: 30_000 })).stdout.trim()
  for (const f of ['init/heartbeat', 'init/heartbeat.service']) t.ok(existsSync(join(root, 'heartbeat-ts', f)), `$(npm root -g)/heartbeat-ts/${f} is installed`)

  // The rollback: npm uninstall -g leaves no command and no man page of ours.
  const uninstall = await npmGlobal(prefix, 'uninstall', 'heartbeat-ts')
  t.equal(uninstall.exitCode, 0, uninstall.stderr)
  // (cl_status may still be found: Debian's /usr/bin/cl_status, which the rollback puts back in front.)
  const found = (await shell('for c in hbctl heartbeat cl_status hb-mon; do command -v $c; done')).stdout
  t.same(found.split('\n').filter((l) => l.startsWith(prefix)), [], `no command of ours left on PATH (found: ${found.replace(/\n/g, ', ') || 'none'})`)
  const left = (await readdir(prefix, { recursive: true })).filter((f) => /\.[1-8]$/.test(f))
  t.same(left, [], 'no man page left under the prefix')
})
