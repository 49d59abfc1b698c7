// hbctl export-pacemaker, judged by Pacemaker's own tools: crm_verify accepts the CIB, and crm_simulate
// places each group on its haresources node, fails it over when that node goes, and brings it back
// (auto_failback on/legacy) or leaves it (off). Seed, modern, and the haresources shapes of 3.0.6's docs.
import t, { type Test } from 'tap'
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { execa } from 'execa'
import { main } from '../../lib/cli/hbctl-export-pacemaker.js'
import { parseHaCf } from '../../lib/config/ha-cf.js'
import { exportPacemaker, type StonithSource } from '../../lib/config/pacemaker-export.js'

const example = (rel: string): string => fileURLToPath(new URL(`../../ha.d-example/${rel}`, import.meta.url))

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) }
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true))
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true))
  try {
    return { code: await main(argv), out, err }
  } finally {
    process.stdout.write = write.out
    process.stderr.write = write.err
  }
}

const havePacemaker = (await execa('sh', ['-c', 'command -v crm_verify && command -v crm_simulate'], { reject: false })).exitCode === 0
function needPacemaker(t: Test): boolean {
  if (havePacemaker) return true
  if (process.env.CI === 'true') t.fail('crm_verify/crm_simulate missing (.ci/setup installs pacemaker-cli-utils)')
  else t.comment('skipped: pacemaker-cli-utils not installed')
  return false
}

/** Group id → the nodes its resources run on, from a CIB with status, as crm_simulate reports it. */
async function placement(cib: string): Promise<Map<string, string[]>> {
  const r = await execa('crm_simulate', ['-x', cib, '--output-as=xml'], { timeout: 60_000 })
  const out = new Map<string, string[]>()
  for (const g of r.stdout.matchAll(/<group id="([^"]+)"[^]*?<\/group>/g)) {
    const nodes = [...(g[0] ?? '').matchAll(/<node name="([^"]+)"/g)].map((m) => m[1] ?? '')
    out.set(g[1] ?? '', [...new Set(nodes)].sort())
  }
  return out
}

/** t.testdir() makes a fresh directory on every call: one per test, made once. */
const dirs = new WeakMap<Test, string>()
function testDir(t: Test): string {
  const d = dirs.get(t) ?? t.testdir()
  dirs.set(t, d)
  return d
}

/** One crm_simulate step from `from` (the exported CIB or a previous step) with node changes; returns the saved CIB. */
let step = 0
async function simulate(t: Test, from: string, changes: string[]): Promise<{ cib: string; text: string }> {
  const cib = join(testDir(t), `step-${++step}.xml`)
  const r = await execa('crm_simulate', ['-x', from, '-S', ...changes, '-O', cib], { reject: false, timeout: 60_000 })
  t.equal(r.exitCode, 0, `crm_simulate ${changes.join(' ')}: ${r.stderr}`)
  return { cib, text: r.stdout }
}

/** An ha.d directory in the test's dir: a copy of an example, or files written here. */
function haDir(t: Test, files: Record<string, string> | string): string {
  const dir = join(testDir(t), 'ha.d')
  mkdirSync(dir, { recursive: true })
  if (typeof files === 'string') for (const name of readdirSync(files)) copyFileSync(join(files, name), join(dir, name))
  else for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 })
  return dir
}

async function exportTo(t: Test, dir: string, fencing = false): Promise<{ out: string; err: string; cib: string; corosync: string }> {
  const outDir = join(testDir(t), 'out')
  const r = await run(['--ha-dir', dir, '--out', outDir])
  t.equal(r.code, 0, r.err)
  if (fencing) t.match(r.err, /stonith-enabled=true with /, 'the admin is told which devices fence')
  else t.match(r.err, /WARNING: stonith-enabled=false/, 'the admin is told loudly that STONITH is off')
  return { out: r.out, err: r.err, cib: join(outDir, 'cib.xml'), corosync: readFileSync(join(outDir, 'corosync.conf'), 'utf8') }
}

async function verify(t: Test, cib: string): Promise<void> {
  const v = await execa('crm_verify', ['--xml-file', cib, '-V'], { reject: false, timeout: 60_000 })
  t.equal(v.exitCode, 0, 'crm_verify --xml-file passes')
  t.equal(v.stderr + v.stdout, '', 'crm_verify prints no error or warning')
}

/** Both nodes up, then `owner` down, then `owner` back: where each group is after each step. */
async function story(t: Test, cib: string, nodes: string[], owner: string): Promise<Array<Map<string, string[]>>> {
  const up = await simulate(t, cib, nodes.flatMap((n) => ['-u', n]))
  const down = await simulate(t, up.cib, ['-d', owner])
  const back = await simulate(t, down.cib, ['-u', owner])
  return [await placement(up.cib), await placement(down.cib), await placement(back.cib)]
}

const T5 = 'titanic5.etri.re.kr'
const T6 = 'titanic6.etri.re.kr'

t.test('the seed (titanic5): VIP + lvs on titanic5, over to titanic6, back (auto_failback legacy fails back)', async (t) => {
  if (!needPacemaker(t)) return
  const e = await exportTo(t, haDir(t, example('titanic5/ha.d')))
  const xml = readFileSync(e.cib, 'utf8')
  t.match(xml, /class="ocf" provider="heartbeat" type="IPaddr2"[^]*name="ip" value="129\.254\.203\.149"/, 'the bare address is an IPaddr2')
  t.match(xml, /class="ocf" provider="heartbeat-ts" type="lvs"/, 'lvs is our OCF agent')
  t.match(xml, /<!-- WARNING: STONITH IS OFF/, 'the CIB says so too')
  t.match(xml, /name="resource-stickiness" value="0"/)
  await verify(t, e.cib)
  // udp eth0 (bcast): no addresses in ha.cf, so the node names are the ring addresses
  t.match(e.corosync, /mcastport: 1001/, 'udpport 1001 carried over')
  t.match(e.corosync, /token: 5000\n\s*consensus: 6000/, 'deadtime 5 → token 5000 ms, consensus 1.2 × token')
  t.match(e.corosync, /name: titanic5\.etri\.re\.kr\n\s*nodeid: 1\n\s*ring0_addr: titanic5\.etri\.re\.kr/)
  t.match(e.corosync, /two_node: 1/)
  const [up, down, back] = await story(t, e.cib, [T5, T6], T5)
  const g = 'grp-vip-129.254.203.149'
  t.same(up?.get(g), [T5], 'both up: the group runs on its haresources node')
  t.same(down?.get(g), [T6], 'titanic5 offline: the group moves to titanic6')
  t.same(back?.get(g), [T5], 'titanic5 back: the group goes home (stickiness 0)')
})

t.test('ha.d-example/modern: ucast addresses become ring addresses; auto_failback on fails back', async (t) => {
  if (!needPacemaker(t)) return
  const e = await exportTo(t, haDir(t, example('modern/ha.d')))
  const xml = readFileSync(e.cib, 'utf8')
  t.match(xml, /name="ip" value="10\.0\.0\.100"[^]*name="cidr_netmask" value="24"[^]*name="nic" value="eth0"/, 'IPaddr::ip/24/eth0 → ip, cidr_netmask, nic')
  await verify(t, e.cib)
  t.match(e.corosync, /ring0_addr: 10\.0\.0\.5[^]*ring0_addr: 10\.0\.0\.6/)
  t.match(e.corosync, /token: 1000\n\s*consensus: 1200/)
  t.match(e.corosync, /knet_ping_interval: 200/, 'keepalive 200ms → knet ping interval')
  const [up, down, back] = await story(t, e.cib, ['director1', 'director2'], 'director1')
  const g = 'grp-vip-10.0.0.100'
  t.same([up?.get(g), down?.get(g), back?.get(g)], [['director1'], ['director2'], ['director1']])
})

// The shapes of heartbeat 3.0.6's haresources documentation: several groups, both nodes owning some,
// IPaddr::addr/nm/nic with a dotted mask, Filesystem::dev::dir::fstype, init scripts, MailTo.
const DOC_HA_CF = `keepalive 2
deadtime 30
udpport 694
bcast eth0 eth1
mcast eth2 225.0.0.1 694 1 0
auto_failback off
node node1
node node2
`
const DOC_HARESOURCES = `# three groups, as in the documentation's examples
node1 IPaddr::10.10.10.10/24/eth0 Filesystem::/dev/sda1::/data1::ext3 httpd
node2 10.10.10.20 IPaddr::10.10.10.21/255.255.255.0/eth1 smb MailTo::admin@example.com::failover
node1 IPaddr2::10.10.10.30/24/eth0 lvs::10.10.10.30:80::wlc::10.10.10.31,10.10.10.32::dr
`
const AUTHKEYS = 'auth 1\n1 sha1 PutYourSecretHere\n'

t.test("3.0.6 documentation shapes: each group on its owner, fails over, stays put with auto_failback off", async (t) => {
  if (!needPacemaker(t)) return
  const e = await exportTo(t, haDir(t, { 'ha.cf': DOC_HA_CF, haresources: DOC_HARESOURCES, authkeys: AUTHKEYS }))
  const xml = readFileSync(e.cib, 'utf8')
  t.match(xml, /type="Filesystem"[^]*name="device" value="\/dev\/sda1"[^]*name="directory" value="\/data1"[^]*name="fstype" value="ext3"/)
  t.match(xml, /<primitive id="httpd" class="lsb" type="httpd">/, 'an init script is lsb:')
  t.match(xml, /name="cidr_netmask" value="24"[^]*name="nic" value="eth1"/, 'a dotted netmask becomes bits')
  t.match(xml, /type="MailTo"[^]*name="email" value="admin@example.com"[^]*name="subject" value="failover"/)
  t.match(xml, /type="lvs"[^]*name="service" value="10\.10\.10\.30:80"[^]*name="scheduler" value="wlc"[^]*name="real_servers" value="10\.10\.10\.31,10\.10\.10\.32"[^]*name="forwarding" value="dr"/)
  t.match(xml, /name="resource-stickiness" value="200"/, 'auto_failback off: stickiness beats the owner preference')
  await verify(t, e.cib)
  // three interfaces, three knet links
  t.match(e.corosync, /linknumber: 2/)
  t.match(e.corosync, /ring2_addr: node2/)
  t.match(e.err, /mcast 225\.0\.0\.1|node names are used as ring addresses/)
  const [up, down, back] = await story(t, e.cib, ['node1', 'node2'], 'node1')
  const groups = ['grp-vip-10.10.10.10', 'grp-vip-10.10.10.20', 'grp-vip-10.10.10.30']
  t.same(groups.map((g) => up?.get(g)), [['node1'], ['node2'], ['node1']], 'both up: every group on its haresources node')
  t.same(groups.map((g) => down?.get(g)), [['node2'], ['node2'], ['node2']], 'node1 offline: its groups move to node2')
  t.same(groups.map((g) => back?.get(g)), [['node2'], ['node2'], ['node2']], 'node1 back: auto_failback off, nothing moves')
})

t.test('the owner preference alone is what brings groups home: node2 going down moves only its group', async (t) => {
  if (!needPacemaker(t)) return
  const e = await exportTo(t, haDir(t, { 'ha.cf': DOC_HA_CF.replace('auto_failback off', 'auto_failback on'), haresources: DOC_HARESOURCES, authkeys: AUTHKEYS }))
  const [up, down, back] = await story(t, e.cib, ['node1', 'node2'], 'node2')
  const groups = ['grp-vip-10.10.10.10', 'grp-vip-10.10.10.20', 'grp-vip-10.10.10.30']
  t.same(groups.map((g) => up?.get(g)), [['node1'], ['node2'], ['node1']])
  t.same(groups.map((g) => down?.get(g)), [['node1'], ['node1'], ['node1']])
  t.same(groups.map((g) => back?.get(g)), [['node1'], ['node2'], ['node1']], 'auto_failback on: node2 gets its group back')
})

t.test('a broken configuration writes nothing; --out is required', async (t) => {
  const dir = haDir(t, { 'ha.cf': DOC_HA_CF, haresources: 'node3 10.10.10.10\n', authkeys: AUTHKEYS })
  const outDir = join(testDir(t), 'out')
  const r = await run(['--ha-dir', dir, '--out', outDir])
  t.equal(r.code, 1)
  t.match(r.err, /node3/)
  t.throws(() => readdirSync(outDir), 'no output directory')
  t.equal((await run(['--ha-dir', dir])).code, 2)
})

// ha.cf's STONITH lines become stonith: resources named as cluster-glue names the plugin's parameters.
const haveStonith = (await execa('sh', ['-c', 'command -v stonith'], { reject: false })).exitCode === 0
function needStonith(t: Test): boolean {
  if (!needPacemaker(t)) return false
  if (haveStonith) return true
  if (process.env.CI === 'true') t.fail('stonith (cluster-glue) missing')
  else t.comment('skipped: cluster-glue stonith not installed')
  return false
}
const SEED_HA_CF = readFileSync(example('titanic5/ha.d/ha.cf'), 'utf8')
const SEED_HARESOURCES = readFileSync(example('titanic5/ha.d/haresources'), 'utf8')
const lineOf = (text: string, directive: string): number => text.split('\n').indexOf(directive) + 1

/** Where each stonith resource runs, from crm_simulate's text. */
async function fencers(cib: string): Promise<Map<string, string>> {
  const r = await execa('crm_simulate', ['-x', cib], { timeout: 60_000 })
  return new Map([...r.stdout.matchAll(/\* (\S+)\s+\(stonith:[^)]+\):\s+(\S+(?: \S+)?)/g)].map((m) => [m[1] ?? '', m[2] ?? '']))
}

t.test('stonith_host * null titanic5 titanic6: a null fencing device anywhere, stonith-enabled=true', async (t) => {
  if (!needStonith(t)) return
  const haCf = `${SEED_HA_CF}stonith_host * null ${T5} ${T6}\n`
  const e = await exportTo(t, haDir(t, { 'ha.cf': haCf, haresources: SEED_HARESOURCES, authkeys: AUTHKEYS }), true)
  const xml = readFileSync(e.cib, 'utf8')
  t.match(xml, /name="stonith-enabled" value="true"/)
  t.notMatch(xml, /STONITH IS OFF/)
  t.match(xml, new RegExp(`<!-- ha.cf line ${lineOf(haCf, `stonith_host * null ${T5} ${T6}`)}: stonith_host \\* null`), 'the CIB names the ha.cf line')
  t.match(xml, /<primitive id="st-null" class="stonith" type="null">[^]*name="hostlist" value="titanic5\.etri\.re\.kr titanic6\.etri\.re\.kr"/, 'the values fill null\'s one parameter, hostlist')
  t.notMatch(xml, /rsc="st-null"/, '* : no location constraint')
  // an unseen node is fenced at start (crm_verify warns of it): verify once both are up
  const up = await simulate(t, e.cib, ['-u', T5, '-u', T6])
  await verify(t, up.cib)
  const down = await simulate(t, up.cib, ['-d', T5])
  t.equal((await fencers(down.cib)).get('st-null'), `Started ${T6}`, 'titanic5 gone: the device runs on titanic6')
  t.same((await placement(down.cib)).get('grp-vip-129.254.203.149'), [T6])
})

t.test('stonith_host titanic5 external/ssh titanic6 and a stonith FILE line: parameters by name, kept off the fenced host', async (t) => {
  if (!needStonith(t)) return
  const dir = haDir(t, { haresources: SEED_HARESOURCES, authkeys: AUTHKEYS })
  const ipmiCfg = join(testDir(t), 'ipmi.cfg')
  writeFileSync(ipmiCfg, `# hostname ipaddr userid passwd interface\n${T5} 10.0.0.5 admin s3cret lan\n`)
  const sshLine = `stonith_host ${T5} external/ssh ${T6}`
  const haCf = `${SEED_HA_CF}${sshLine}\nstonith external/ipmi ${ipmiCfg}\n`
  writeFileSync(join(dir, 'ha.cf'), haCf)
  const e = await exportTo(t, dir, true)
  const xml = readFileSync(e.cib, 'utf8')
  t.match(xml, /<primitive id="st-titanic5\.etri\.re\.kr" class="stonith" type="external\/ssh">[^]*name="hostlist" value="titanic6\.etri\.re\.kr"/)
  t.match(xml, /rsc="st-titanic5\.etri\.re\.kr" node="titanic6\.etri\.re\.kr" score="-INFINITY"/, 'the titanic5 device never runs on titanic6, the host it fences')
  t.match(xml, /type="external\/ipmi">[^]*name="hostname" value="titanic5\.etri\.re\.kr"[^]*name="ipaddr" value="10\.0\.0\.5"[^]*name="userid" value="admin"[^]*name="passwd" value="s3cret"[^]*name="interface" value="lan"/, 'the file\'s values in stonith -n order')
  t.match(e.err, new RegExp(`external/ssh \\(ha.cf line ${lineOf(haCf, sshLine)}\\)`))
  const up = await simulate(t, e.cib, ['-u', T5, '-u', T6])
  await verify(t, up.cib)
  t.equal((await fencers(up.cib)).get('st-titanic5.etri.re.kr'), `Started ${T5}`)
  const down = await simulate(t, up.cib, ['-d', T5])
  t.equal((await fencers(down.cib)).get('st-titanic5.etri.re.kr'), 'Stopped', 'titanic5 gone: its device does not move to titanic6')
})

t.test('STONITH lines heartbeat would not have used together, or for a host outside the cluster, are named', async (t) => {
  const haCf = parseHaCf(`${SEED_HA_CF}stonith_host * null ${T5} ${T6}\nstonith_host ${T5} external/ssh ${T6}\nstonith_host ${T6} external/ssh ${T5}\nstonith_host titanic7 null x\n`, 'ha.cf', { refuseUnsupported: false }).config
  const src = (i: number): StonithSource => ({ directive: haCf.stonith[i]!, names: ['hostlist'], values: 'x' })
  const e = exportPacemaker(haCf, [], [0, 1, 2, 3].map(src))
  const base = SEED_HA_CF.split('\n').length // the first appended line (the seed ends with a newline)
  t.ok(e.notes.includes(`${T5} may use 2 devices (ha.cf lines ${base}, ${base + 1}); heartbeat used only the last (line ${base + 1}): remove the others or order them with a fencing-topology`), e.notes.join('\n'))
  t.ok(e.notes.some((n) => n.startsWith(`WARNING: ha.cf line ${base + 3}: stonith_host titanic7 is not a node`)), 'a device for a stranger is named')
  t.match(e.cibXml, /name="stonith-enabled" value="true"/)
})

t.test('a STONITH line that cannot be mapped is refused by line, nothing written', async (t) => {
  if (!haveStonith) return void t.comment('skipped: cluster-glue stonith not installed')
  for (const bad of [`stonith_host * nosuchplugin ${T6}`, 'stonith_host * external/ipmi titanic6 10.0.0.6', `stonith null ${join(testDir(t), 'missing.cfg')}`]) {
    const haCf = `${SEED_HA_CF}${bad}\n`
    const dir = haDir(t, { 'ha.cf': haCf, haresources: SEED_HARESOURCES, authkeys: AUTHKEYS })
    const outDir = join(testDir(t), 'out-refused')
    const r = await run(['--ha-dir', dir, '--out', outDir])
    t.equal(r.code, 1, bad)
    t.match(r.err, `ha.cf:${lineOf(haCf, bad)}: ${bad}: cannot export`, `${bad}: the error names the line`)
    t.throws(() => readdirSync(outDir), 'no output directory')
  }
})

t.test("corosync -t accepts the modern export on director1 (a namespace holding its ucast address)", async (t) => {
  const haveCorosync = (await execa('sh', ['-c', 'command -v corosync'], { reject: false })).exitCode === 0
  if (process.getuid?.() !== 0 || !haveCorosync) {
    if (process.env.CI === 'true') t.fail('needs root and corosync (.ci/setup installs it)')
    else t.comment('skipped: needs root and corosync')
    return
  }
  const e = await exportTo(t, haDir(t, example('modern/ha.d')))
  // corosync-keygen's job on a real node; any 256 bytes do for a configuration test
  const key = join(testDir(t), 'authkey')
  writeFileSync(key, randomBytes(256), { mode: 0o400 })
  const conf = join(testDir(t), 'corosync-test.conf')
  writeFileSync(conf, e.corosync.replace('crypto_hash: sha256', `crypto_hash: sha256\n    keyfile: ${key}`))
  const ns = `cs${randomBytes(3).toString('hex')}`
  t.teardown(async () => void (await execa('ip', ['netns', 'del', ns], { reject: false })))
  for (const args of [['netns', 'add', ns], ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0'], ['-n', ns, 'addr', 'add', '10.0.0.5/24', 'dev', 'eth0'], ['-n', ns, 'link', 'set', 'eth0', 'up'], ['-n', ns, 'link', 'set', 'lo', 'up']]) {
    await execa('ip', args, { timeout: 10_000 })
  }
  const r = await execa('ip', ['netns', 'exec', ns, 'corosync', '-t', '-c', conf], { reject: false, timeout: 60_000 })
  t.equal(r.exitCode, 0, `corosync -t: ${r.stderr}`)
  t.match(r.stderr, /exiting normally/)
})
