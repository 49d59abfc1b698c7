// The outside-command manifest (lib/agents/system-tools.json) is complete and true: every program the
// code, tests, benches and demo start is named in it with its Debian package, .ci/setup installs from
// it, every command in it is on PATH after set-up, and a missing one is named in words, not as ENOENT.

import t, { type Test } from 'tap'
import { readFile, readdir, mkdtemp, writeFile, rm, mkdir, cp, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve, relative } from 'node:path'
import { execa } from 'execa'
import { scanCommands } from './support/command-scan.js'
import { SYSTEM_TOOLS, describeMissing, findOnPath } from '../lib/agents/system-tools.js'
import { run as runHelper } from '../lib/agents/agent-exec.js'
import { runDaemon } from '../lib/daemon/run.js'

const REPO = resolve(import.meta.dirname, '..')
const named = new Set(SYSTEM_TOOLS.map((x) => x.command))

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await sourceFiles(p)))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Commands a source tree starts that the manifest does not name, as "file:line: cmd". */
function unnamed(files: readonly { name: string; text: string }[]): string[] {
  const out: string[] = []
  for (const f of files) for (const use of scanCommands(f.name, f.text)) if (!named.has(use.command)) out.push(`${f.name}:${use.line}: ${use.command}`)
  return out
}

t.test('every command lib/, test/ and bench/ start is in the manifest', async (t) => {
  const files = []
  for (const top of ['lib', 'test', 'bench']) {
    for (const p of await sourceFiles(join(REPO, top))) files.push({ name: relative(REPO, p), text: await readFile(p, 'utf8') })
  }
  t.ok(files.length > 100, `read ${files.length} source files`)
  const found = new Set(files.flatMap((f) => scanCommands(f.name, f.text).map((u) => u.command)))
  // The scanner really sees the daemon's programs and the tests' tools; a blind scanner would pass anything.
  for (const c of ['ip', 'arping', 'ipvsadm', 'logger', 'mkfifo', 'nsenter', 'nft', 'tcpdump', 'curl']) t.ok(found.has(c), `scanner finds ${c}`)
  t.same(unnamed(files), [], 'commands started but not named in lib/agents/system-tools.json')
})

t.test('a planted command outside the manifest is caught, in every call shape', async (t) => {
  const planted = [
    "import { execa } from 'execa'",
    "await execa('frobctl', ['-x'])",
    "await execa('ip', ['netns', 'exec', ns, 'wibble', '-n'])",
    "await host.exec(['quuxd', '--once'])",
    "const p = client.spawn(['zorkdump', '-i', 'eth0'])",
    "await mustExec(host, ['blorpctl', 'up'])",
    "const cmd = env.HBTS_FOO_CMD ?? 'fooadm'",
    "for (const tool of ['ip', 'gleep']) { if (!(await canRun(['sh', '-c', `command -v ${tool}`]))) return }",
  ].join('\n')
  const got = unnamed([{ name: 'planted.ts', text: planted }]).map((l) => l.replace(/^planted\.ts:\d+: /, ''))
  t.same(got.sort(), ['blorpctl', 'fooadm', 'frobctl', 'gleep', 'quuxd', 'wibble', 'zorkdump'])
})

t.test('the manifest is well formed and .ci/setup installs from it', async (t) => {
  for (const tool of SYSTEM_TOOLS) {
    t.match(tool.package, /^[a-z0-9][a-z0-9.+-]+$/, `${tool.command}: a Debian package name`)
    t.ok(['product', 'demo', 'test'].includes(tool.scope), `${tool.command}: scope ${tool.scope}`)
    t.ok(tool.for.length > 5, `${tool.command}: says what it is for`)
  }
  t.equal(new Set(SYSTEM_TOOLS.map((x) => x.command)).size, SYSTEM_TOOLS.length, 'each command once')
  const setup = await readFile(join(REPO, '.ci/setup'), 'utf8')
  t.match(setup, 'lib/agents/system-tools.json', '.ci/setup reads the manifest')
})

t.test("README's requirements list is the manifest's product and demo commands", async (t) => {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8')
  const section = /## What a director needs\n([^]*?)\n## /.exec(readme)?.[1] ?? ''
  t.not(section, '', 'README has a "What a director needs" section')
  const rows = [...section.matchAll(/^\| `([^`]+)` \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`)
  const expected = SYSTEM_TOOLS.filter((x) => x.scope !== 'test').map((x) => `${x.command} ${x.package}`)
  t.same(rows, expected, 'one row per product/demo command, in manifest order')
  // The one apt-get line an admin copies for a director installs exactly the product commands' packages.
  const aptLine = /`apt-get install ([^`]+)`/.exec(section)?.[1]?.split(/\s+/) ?? []
  const productPackages = [...new Set(SYSTEM_TOOLS.filter((x) => x.scope === 'product').map((x) => x.package))]
  t.same([...aptLine].sort(), [...productPackages].sort(), "the section's apt-get line names every product package, and only those")
})

t.test('every manifest command is on PATH (after .ci/setup)', async (t) => {
  for (const tool of SYSTEM_TOOLS) {
    const at = await findOnPath(tool.command, process.env.PATH)
    if (at === undefined && process.env.CI !== 'true') {
      t.comment(`skip: ${describeMissing(tool.command)}: run .ci/setup (under CI=true this fails)`)
      continue
    }
    t.ok(at, `${tool.command} found${at === undefined ? `: ${describeMissing(tool.command)}` : ` at ${at}`}`)
  }
})

t.test('a missing program is named with its package, not as a spawn ENOENT', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'hbts-nopath-'))
  t.teardown(() => rm(empty, { recursive: true, force: true }))
  const r = await runHelper('arping', ['-c', '1', '10.0.0.1'], { env: { PATH: empty } })
  t.equal(r.failure, 'arping: not installed (Debian package iputils-arping)')
  const other = await runHelper('hbts-no-such-program', [], { env: { PATH: empty } })
  t.equal(other.failure, 'hbts-no-such-program: not installed (not found on PATH)')
})

/** The seed's titanic5 view with authkeys 0600, and a PATH holding stand-ins for just the commands in `keep`. */
async function seedNode(t: Test, keep: readonly string[]): Promise<{ haDir: string; dir: string; pathVar: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-tools-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const haDir = join(dir, 'ha.d')
  await cp(join(REPO, 'ha.d-example/titanic5/ha.d'), haDir, { recursive: true })
  await chmod(join(haDir, 'authkeys'), 0o600)
  const bin = join(dir, 'bin')
  await mkdir(bin)
  for (const c of keep) {
    await writeFile(join(bin, c), '#!/bin/sh\nexit 0\n')
    await chmod(join(bin, c), 0o755)
  }
  return { haDir, dir, pathVar: bin }
}

t.test('hbctl check names a missing product command with its package and haresources line', async (t) => {
  const node = await seedNode(t, ['ip', 'ipvsadm', 'mkfifo', 'logger'])
  const hbctl = join(REPO, 'dist/lib/cli/hbctl.js')
  const r = await execa(process.execPath, [hbctl, 'check', '--ha-dir', node.haDir, '--node', 'titanic5.etri.re.kr', '--mon', join(node.dir, 'none.cf')], {
    env: { PATH: node.pathVar },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
  })
  t.match(r.stdout, /haresources:\d+: .*arping: not installed \(Debian package iputils-arping\), needed by resource /)
  t.notMatch(r.stdout, /ipvsadm: not installed/, 'a command that is there is not reported')
  t.equal(r.exitCode, 1, 'an error: the daemon would not start')
})

t.test('the daemon refuses to start without a program its resources need, and says which', async (t) => {
  const node = await seedNode(t, ['ip', 'arping', 'mkfifo', 'logger'])
  const stderr: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true))
  let code: number
  try {
    code = await runDaemon({
      paths: { haDir: node.haDir, stateDir: join(node.dir, 'state'), runDir: join(node.dir, 'run'), pidFile: join(node.dir, 'hb.pid'), monCf: join(node.dir, 'mon.cf') },
      nodeName: 'titanic5.etri.re.kr',
      foreground: true,
      debugLevel: 0,
      env: { PATH: node.pathVar },
    })
  } finally {
    process.stderr.write = write
  }
  t.equal(code, 6, 'exit 6: not configured')
  t.match(stderr.join(''), /ipvsadm: not installed \(Debian package ipvsadm\), needed by resource lvs/)
})

t.test('with stonith_host the daemon needs cluster-glue\'s stonith, and refuses a plugin type it does not have', async (t) => {
  const start = async (node: { haDir: string; dir: string; pathVar: string }): Promise<{ code: number; stderr: string }> => {
    const stderr: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true))
    try {
      const code = await runDaemon({
        paths: { haDir: node.haDir, stateDir: join(node.dir, 'state'), runDir: join(node.dir, 'run'), pidFile: join(node.dir, 'hb.pid'), monCf: join(node.dir, 'mon.cf') },
        nodeName: 'titanic5.etri.re.kr',
        foreground: true,
        debugLevel: 0,
        env: { PATH: node.pathVar },
      })
      return { code, stderr: stderr.join('') }
    } finally {
      process.stderr.write = write
    }
  }
  const withLine = async (keep: readonly string[]) => {
    const node = await seedNode(t, keep)
    const haCf = join(node.haDir, 'ha.cf')
    await writeFile(haCf, `${await readFile(haCf, 'utf8')}stonith_host * external/no-such-device a b\n`)
    return node
  }
  const none = await start(await withLine(['ip', 'arping', 'ipvsadm', 'mkfifo', 'logger']))
  t.equal(none.code, 6, 'exit 6 without the stonith command')
  t.match(none.stderr, /stonith: not installed \(Debian package cluster-glue\), needed by the STONITH device \(ha\.cf line \d+\)/)
  const node = await withLine(['ip', 'arping', 'ipvsadm', 'mkfifo', 'logger'])
  // A stand-in stonith whose -L lists two plugins.
  await writeFile(join(node.pathVar, 'stonith'), '#!/bin/sh\n[ "$1" = -L ] && printf "null\\nexternal/ssh\\n"\nexit 0\n')
  await chmod(join(node.pathVar, 'stonith'), 0o755)
  const bad = await start(node)
  t.equal(bad.code, 6, 'exit 6 with a type cluster-glue does not have')
  t.match(bad.stderr, /ha\.cf:\d+: Invalid Stonith type \[external\/no-such-device\]: cluster-glue has no such plugin/)
})
