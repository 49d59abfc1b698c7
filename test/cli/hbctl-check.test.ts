// hbctl check end to end: both titanic views pass, the en-dash lines of mon.cf are named, broken setups exit 1.
import t, { type Test } from 'tap'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../../lib/cli/hbctl-check.js'

const example = (rel: string): string => fileURLToPath(new URL(`../../ha.d-example/${rel}`, import.meta.url))

// the default mon.cf must not be the host's
process.env.HBTS_MON_CF = '/nonexistent/hbctl-check-test/mon.cf'

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) }
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true))
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true))
  try {
    const code = await main(argv)
    return { code, out, err }
  } finally {
    process.stdout.write = write.out
    process.stderr.write = write.err
  }
}

/** An installed copy of a view's ha.d: authkeys at mode 600, as an install would leave it (git keeps 644). */
function install(t: Test, view: string): string {
  const dir = join(t.testdir(), 'ha.d')
  mkdirSync(dir)
  for (const name of readdirSync(example(`${view}/ha.d`))) copyFileSync(join(example(`${view}/ha.d`), name), join(dir, name))
  chmodSync(join(dir, 'authkeys'), 0o600)
  // the modern director's lvs needs a table source (mon.cf or a rules file); the test's mon.cf does not exist
  if (view === 'modern') writeFileSync(join(dir, 'ipvsadm.rules'), RULES)
  return dir
}

const RULES = '-A -t 10.0.0.100:80 -s wlc\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n'

for (const view of ['titanic5', 'titanic6']) {
  t.test(`the ${view} view passes and names the en-dash lines of mon.cf`, async (t) => {
    const haDir = install(t, view)
    const monCf = example(`${view}/mon/mon.cf`)
    const r = await run(['--ha-dir', haDir, '--mon', monCf, '--node', `${view}.etri.re.kr`])
    t.equal(r.code, 0, 'exit 0: heartbeat would start')
    t.match(r.out, /0 errors, \d+ warnings: heartbeat would start/)
    t.notMatch(r.out, /:\d+: (?!warning)/, 'no error lines')
    t.match(r.out, `${haDir}/ha.cf:8: warning: directive "udp" is read as "bcast"`)
    const dashLines = readFileSync(monCf, 'utf8').split('\n').flatMap((l, i) => (l.includes('\u2013') ? [i + 1] : []))
    t.ok(dashLines.length > 0, 'the seed mon.cf has en-dashes')
    for (const n of dashLines) t.match(r.out, new RegExp(`${monCf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${n}: warning: .*en-dash`), `mon.cf line ${n} is named`)
    t.notMatch(r.out, /HI!/, 'the key is never printed')
  })
}

t.test('the node name comes from nodeinfo, lowercased, when --node is not given', async (t) => {
  const haDir = install(t, 'titanic6')
  writeFileSync(join(haDir, 'nodeinfo'), 'TITANIC6.etri.re.kr\n')
  const r = await run(['--ha-dir', haDir])
  t.equal(r.code, 0)
  t.match(r.out, `(node "titanic6.etri.re.kr" from ${join(haDir, 'nodeinfo')})`)
  writeFileSync(join(haDir, 'nodeinfo'), 'titanic9.etri.re.kr\n')
  const wrong = await run(['--ha-dir', haDir])
  t.equal(wrong.code, 1, 'a node not in ha.cf stops heartbeat')
  t.match(wrong.out, `${haDir}/ha.cf: error: local node "titanic9.etri.re.kr" is not in a node line`)
})

t.test('the modern example passes', async (t) => {
  const haDir = install(t, 'modern')
  const r = await run(['--ha-dir', haDir, '--node', 'director2'])
  t.equal(r.code, 0)
  t.match(r.out, '0 errors, 0 warnings: heartbeat would start')
})

t.test('what makes heartbeat refuse to start makes check exit 1', async (t) => {
  const haDir = install(t, 'titanic5')
  chmodSync(join(haDir, 'authkeys'), 0o644)
  const open = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr'])
  t.equal(open.code, 1)
  t.match(open.out, `${haDir}/authkeys: error: readable by group or others (mode 0644); heartbeat requires 600 (chmod 600 ${haDir}/authkeys)`)
  chmodSync(join(haDir, 'authkeys'), 0o600)

  writeFileSync(join(haDir, 'haresources'), 'titanic7.etri.re.kr 129.254.203.150 httpd\n')
  const stranger = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr'])
  t.equal(stranger.code, 1)
  t.match(stranger.out, `${haDir}/haresources:1: error: group for node "titanic7.etri.re.kr", which ha.cf does not list`)

  const ha = readFileSync(join(haDir, 'ha.cf'), 'utf8')
  writeFileSync(join(haDir, 'ha.cf'), ha.replace('keepalive 2', 'keepalive 2s'))
  writeFileSync(join(haDir, 'haresources'), readFileSync(example('titanic5/ha.d/haresources')))
  const seconds = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr'])
  t.equal(seconds.code, 1)
  t.match(seconds.out, `${haDir}/ha.cf:4: error: keepalive: "2s" is not a time heartbeat accepts (did you mean 2 = 2 seconds, or 2000ms?)`)
})

t.test('respawn: the user must exist and the command be an executable absolute path, as heartbeat checks at start', async (t) => {
  const haDir = install(t, 'modern')
  const ha = readFileSync(join(haDir, 'ha.cf'), 'utf8')
  const extra = [`respawn root /nonexistent/client`, `respawn nosuchuser-hbctl ${process.execPath} -v`, `respawn hacluster /usr/lib/heartbeat/ipfail`, `respawn nobody ${process.execPath} -e 0`]
  writeFileSync(join(haDir, 'ha.cf'), `${ha}${extra.join('\n')}\n`)
  const r = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(r.code, 1)
  const lineOf = (i: number): number => ha.split('\n').length + i
  t.match(r.out, `${haDir}/ha.cf:${lineOf(0)}: error: respawn: "/nonexistent/client" does not exist`)
  t.match(r.out, `${haDir}/ha.cf:${lineOf(1)}: error: respawn: user "nosuchuser-hbctl" does not exist (getent passwd)`)
  t.notMatch(r.out, `ha.cf:${lineOf(2)}:`, 'ipfail is built in: its line is not checked as a program to run')
  t.notMatch(r.out, `ha.cf:${lineOf(3)}:`, 'a runnable line: nothing to say')
})

t.test('missing files and bad options', async (t) => {
  const haDir = install(t, 'titanic5')
  const noMon = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr', '--mon', join(haDir, 'mon.cf')])
  t.equal(noMon.code, 1, 'a named mon.cf must exist')
  t.match(noMon.out, `${haDir}/mon.cf: error: cannot read: no such file`)
  const empty = join(t.testdir(), 'empty')
  mkdirSync(empty)
  const none = await run(['--ha-dir', empty, '--node', 'x'])
  t.equal(none.code, 1)
  for (const f of ['ha.cf', 'authkeys', 'haresources']) t.match(none.out, `${empty}/${f}: error: cannot read: no such file`)
  const bad = await run(['--bogus'])
  t.equal(bad.code, 2)
  t.match(bad.err, 'usage: hbctl check')
  const help = await run(['--help'])
  t.equal(help.code, 0)
  t.match(help.out, '--ha-dir DIR')
})

t.test('authkeys that heartbeat accepts but that protect nothing draw warnings', async (t) => {
  const haDir = install(t, 'modern')
  writeFileSync(join(haDir, 'authkeys'), 'auth 1\n1 crc\n', { mode: 0o600 })
  const crc = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(crc.code, 0, 'crc still starts')
  t.match(crc.out, `${haDir}/authkeys:2: warning: key 1: crc authenticates nothing`)
  writeFileSync(join(haDir, 'authkeys'), 'auth 2\n1 sha1 retired-SECRET\n2 sha1 current-SECRET\n', { mode: 0o600 })
  const listed = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(listed.code, 0)
  t.match(listed.out, `${haDir}/authkeys:2: warning: key 1 is listed but not active (auth 2): packets signed with it are still accepted`)
  t.notMatch(listed.out, /SECRET/, 'no key text')
})

t.test('a key written in UTF-8 is checked as bytes and never printed', async (t) => {
  const haDir = install(t, 'modern')
  writeFileSync(join(haDir, 'authkeys'), Buffer.from('auth 1\n1 sha1pässwörd\n', 'utf8'), { mode: 0o600 })
  const r = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(r.code, 1)
  t.match(r.out, 'key 1: the method and the key must be separated by a blank')
  t.notMatch(r.out, /ss/, 'no key text')
})

t.test('heartbeat-ts.conf is checked: a value the daemon refuses makes check fail too', async (t) => {
  const haDir = install(t, 'modern')
  writeFileSync(join(haDir, 'heartbeat-ts.conf'), '[membership]\nstatus_copies = 9\n')
  const r = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(r.code, 1, 'the daemon exits "not configured" on it, so check exits 1')
  t.match(r.out, `${haDir}/heartbeat-ts.conf:2: error: `)
  t.match(r.out, /status_copies/)
  t.match(r.out, `checked: `)
  t.match(r.out, `${haDir}/heartbeat-ts.conf`)
  writeFileSync(join(haDir, 'heartbeat-ts.conf'), '[membership]\nstatus_copies = 2\n')
  const good = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(good.code, 0)
  t.match(good.out, '0 errors, 0 warnings: heartbeat would start')
})

t.test('the example configs as git checks them out (authkeys 0644): the error says how to fix it', async (t) => {
  const haDir = join(t.testdir(), 'ha.d')
  mkdirSync(haDir)
  for (const name of readdirSync(example('modern/ha.d'))) copyFileSync(join(example('modern/ha.d'), name), join(haDir, name))
  chmodSync(join(haDir, 'authkeys'), 0o644)
  const r = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(r.code, 1)
  t.match(r.out, `${haDir}/authkeys: error: readable by group or others (mode 0644); heartbeat requires 600 (chmod 600 ${haDir}/authkeys)`)
})

t.test('--json: one object with a version, the verdict, counts and every diagnostic; same exit codes', async (t) => {
  const haDir = install(t, 'titanic5')
  const ok = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr', '--json'])
  t.equal(ok.code, 0)
  const good = JSON.parse(ok.out) as { version: number; wouldStart: boolean; errors: number; warnings: number; diagnostics: Array<{ path: string; line?: number; severity: string; message: string }>; checked: string[] }
  t.equal(good.version, 1)
  t.equal(good.wouldStart, true)
  t.equal(good.errors, 0)
  t.equal(good.warnings, good.diagnostics.length)
  t.ok(good.diagnostics.some((d) => d.path === `${haDir}/ha.cf` && d.line === 8 && d.severity === 'warning' && d.message.startsWith('directive "udp" is read as "bcast"')))
  t.ok(good.checked.some((c) => c.startsWith(`${haDir}/ha.cf`)))
  chmodSync(join(haDir, 'authkeys'), 0o644)
  const bad = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr', '--json'])
  t.equal(bad.code, 1)
  const refused = JSON.parse(bad.out) as typeof good
  t.equal(refused.wouldStart, false)
  t.equal(refused.errors, 1)
  t.equal(bad.out.trim().split('\n').length, 1, 'one line of JSON, nothing else on stdout')
})

t.test('the agent each resource will run: built-in, a script, or none (an error naming the haresources line)', async (t) => {
  const haDir = install(t, 'modern')
  mkdirSync(join(haDir, 'resource.d'))
  writeFileSync(join(haDir, 'resource.d', 'myapp'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  writeFileSync(join(haDir, 'haresources'), 'director1 IPaddr::10.0.0.100/24/eth0 lvs myapp::x nosuchagent-hbctl\n')
  const r = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(r.code, 1, 'a resource with no agent at all: the daemon would not start')
  t.match(r.out, `${haDir}/haresources:1: error: resource "nosuchagent-hbctl": no agent: nosuchagent-hbctl is not built in and there is no executable nosuchagent-hbctl in ${haDir}/resource.d, /etc/init.d, /etc/rc.d/init.d; the daemon refuses to start`)
  t.match(r.out, `agents: IPaddr::10.0.0.100/24/eth0 -> built-in IPaddr, lvs -> built-in lvs, myapp::x -> ${haDir}/resource.d/myapp, nosuchagent-hbctl -> NOT FOUND`)
  t.match(r.out, '\n  lvs: the built-in lvs (the default)\n', 'why each agent runs')
  const j = await run(['--ha-dir', haDir, '--node', 'director1', '--json'])
  const agents = (JSON.parse(j.out) as { agents: Array<{ resource: string; agent: string; runs: string | null; why: string }> }).agents
  t.same(agents.map((a) => [a.agent, a.runs]), [['IPaddr', 'builtin'], ['lvs', 'builtin'], ['myapp', `${haDir}/resource.d/myapp`], ['nosuchagent-hbctl', null]])
  t.match(agents[2]?.why, /^the site's script /)
})

t.test("the site's lvs script runs instead of a built-in lvs with no table source; heartbeat-ts.conf can ask for it", async (t) => {
  const haDir = install(t, 'modern')
  rmSync(join(haDir, 'ipvsadm.rules'))
  const bare = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(bare.code, 0, 'no table and no script: the daemon starts')
  t.match(bare.out, `${haDir}/haresources:2: warning: resource "lvs": the built-in lvs cannot run here (no table source: no lvs:: arguments in haresources, no ${haDir}/ipvsadm.rules, no /nonexistent/hbctl-check-test/mon.cf)`)
  t.match(bare.out, 'taking over group "IPaddr::10.0.0.100/24/eth0" will fail')

  mkdirSync(join(haDir, 'resource.d'))
  writeFileSync(join(haDir, 'resource.d', 'lvs'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  const script = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(script.code, 0)
  t.match(script.out, '0 errors, 0 warnings', 'the group is not given up: the site script stands in')
  t.match(script.out, `lvs -> ${haDir}/resource.d/lvs`)
  t.match(script.out, `  lvs: the site's script ${haDir}/resource.d/lvs: the built-in lvs cannot run here (no table source`)

  writeFileSync(join(haDir, 'ipvsadm.rules'), RULES)
  const table = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.match(table.out, 'lvs -> built-in lvs', 'with a table the built-in runs again')
  writeFileSync(join(haDir, 'heartbeat-ts.conf'), '[agents]\nsite_scripts = lvs\n')
  const asked = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(asked.code, 0)
  t.match(asked.out, `lvs -> ${haDir}/resource.d/lvs`)
  t.match(asked.out, `  lvs: the site's script ${haDir}/resource.d/lvs, as heartbeat-ts.conf [agents] site_scripts asks`)
  writeFileSync(join(haDir, 'heartbeat-ts.conf'), '[agents]\nsite_scripts = IPaddr\n')
  const missing = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(missing.code, 1, 'asked for a script that is not there: an error')
  t.match(missing.out, `${haDir}/haresources:2: error: resource "IPaddr::10.0.0.100/24/eth0": heartbeat-ts.conf [agents] site_scripts asks for the site's IPaddr script, and there is no executable IPaddr in ${haDir}/resource.d`)
})

t.test('a site ha.cf with what heartbeat-ts does not act on: each line named with its reason, check fails', async (t) => {
  const haDir = install(t, 'modern')
  const ha = readFileSync(join(haDir, 'ha.cf'), 'utf8')
  const extra = ['baud 19200', 'serial /nonexistent/ttyS9', 'ping 10.0.0.254', 'ping_group routers 10.0.0.1 10.0.0.2', 'respawn hacluster /usr/lib/heartbeat/ipfail', 'watchdog /nonexistent/watchdog', 'stonith_host * null director1', 'apiauth ipfail uid=hacluster', 'rtprio 20']
  writeFileSync(join(haDir, 'ha.cf'), `${ha}${extra.join('\n')}\n`)
  const first = ha.split('\n').length
  const r = await run(['--ha-dir', haDir, '--node', 'director1'])
  t.equal(r.code, 1, 'heartbeat-ts would not start')
  for (const [i, line] of extra.entries()) {
    const directive = line.split(' ')[0] ?? ''
    // ping nodes are pinged; ipfail is built in, so its (absent) program is not looked for
    if (['baud', 'stonith_host', 'ping', 'ping_group', 'respawn'].includes(directive)) t.notMatch(r.out, `ha.cf:${first + i}:`, `${directive} is acted on: nothing said`)
    else if (directive === 'rtprio') t.match(r.out, `${haDir}/ha.cf:${first + i}: warning: rtprio has no effect`)
    else if (directive === 'serial') t.match(r.out, `${haDir}/ha.cf:${first + i}: error: serial: cannot open "/nonexistent/ttyS9": no such file; the daemon refuses to start`, 'serial is acted on; its missing tty is an error on its line')
    else if (directive === 'watchdog') {
      t.match(r.out, `${haDir}/ha.cf:${first + i}: warning: watchdog: heartbeat-ts feeds the device`)
      t.match(r.out, `${haDir}/ha.cf:${first + i}: error: watchdog: cannot open "/nonexistent/watchdog": no such file; the daemon refuses to start`)
    }
    else t.match(r.out, `${haDir}/ha.cf:${first + i}: error: directive ${directive} is not supported by heartbeat-ts: `, `${directive} is named on its line`)
  }
  t.match(r.out, '3 errors, 2 warnings: heartbeat would not start')
})

t.test('stonith_host: accepted with an installed cluster-glue plugin type; an unknown type is an error on its line', async (t) => {
  const haDir = install(t, 'titanic5')
  const haCf = join(haDir, 'ha.cf')
  const seed = readFileSync(haCf, 'utf8')
  writeFileSync(haCf, `${seed}stonith_host * null titanic5.etri.re.kr titanic6.etri.re.kr\n`)
  const ok = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr'])
  t.equal(ok.code, 0, `null is installed: heartbeat would start\n${ok.out}`)
  t.notMatch(ok.out, /Invalid Stonith type|not supported by heartbeat-ts/, 'nothing said about the stonith line')
  const lines = seed.split('\n').length
  writeFileSync(haCf, `${seed}stonith_host titanic6.etri.re.kr external/no-such-device a b\n`)
  const bad = await run(['--ha-dir', haDir, '--node', 'titanic5.etri.re.kr'])
  t.equal(bad.code, 1, 'an unknown type stops heartbeat (3.0.6: "Invalid Stonith type")')
  t.match(bad.out, `${haCf}:${lines}: error: Invalid Stonith type [external/no-such-device]`)
})
