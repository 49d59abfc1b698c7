// resource.d/ocf/IPaddr and resource.d/ocf/lvs as OCF agents: parameters, meta-data against ra-api-1.dtd,
// exit codes, and resource-agents' own ocf-tester run against both in a network namespace (root).
import t from 'tap'
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { execa } from 'execa'
import { ipaddrSpecFromOcf, lvsArgsFromOcf, OCF, runOcfIpaddr, runOcfLvs as runOcfLvsWith } from '../../lib/agents/ocf-adapter.js'
import { processMonitorHook } from '../../lib/io/lvs-monitor-hook.js'
import { removeNamespace } from '../netns/kit.js'

const runOcfLvs = (action: string, env: Record<string, string | undefined>) => runOcfLvsWith(action, env, processMonitorHook())

const repo = fileURLToPath(new URL('../../', import.meta.url))
const IPADDR = join(repo, 'resource.d/ocf/IPaddr')
const LVS = join(repo, 'resource.d/ocf/lvs')
const VIP = '129.254.203.149'
const DIRECTOR = '129.254.203.146'
const MON_CF = join(repo, 'ha.d-example/titanic6/mon/mon.cf')
const DTD_DIR = '/usr/share/resource-agents'

const have = async (cmd: string): Promise<boolean> => (await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode === 0

t.test('OCF_RESKEY_* become the built-in agents’ arguments', async (t) => {
  t.same(ipaddrSpecFromOcf({ OCF_RESKEY_ip: VIP, OCF_RESKEY_cidr_netmask: '26', OCF_RESKEY_nic: 'eth0' }), { ok: true, spec: `${VIP}/26/eth0` })
  t.same(ipaddrSpecFromOcf({ OCF_RESKEY_ip: VIP, OCF_RESKEY_cidr_netmask: '255.255.255.192', OCF_RESKEY_nic: 'eth0', OCF_RESKEY_broadcast: '129.254.203.191' }), { ok: true, spec: `${VIP}/255.255.255.192/eth0/129.254.203.191` })
  t.same(ipaddrSpecFromOcf({ OCF_RESKEY_ip: VIP }), { ok: true, spec: VIP }, 'netmask and nic from the route when not given')
  t.match(ipaddrSpecFromOcf({}), { ok: false, message: /ip is required/ })
  t.match(ipaddrSpecFromOcf({ OCF_RESKEY_ip: VIP, OCF_RESKEY_nic: 'eth0' }), { ok: false, message: /need cidr_netmask/ })
  t.match(ipaddrSpecFromOcf({ OCF_RESKEY_ip: '129.254.203' }), { ok: false })
  t.same(lvsArgsFromOcf({ OCF_RESKEY_service: `${VIP}:80`, OCF_RESKEY_scheduler: 'wlc', OCF_RESKEY_real_servers: '10.0.0.1,10.0.0.2', OCF_RESKEY_forwarding: 'dr' }), { ok: true, args: [`${VIP}:80`, 'wlc', '10.0.0.1,10.0.0.2', 'dr'] })
  t.same(lvsArgsFromOcf({}), { ok: true, args: [] }, 'no service: the rules file or mon.cf gives the table')
  t.match(lvsArgsFromOcf({ OCF_RESKEY_service: `${VIP}:80` }), { ok: false, message: /needs scheduler and real_servers/ })
  t.match(lvsArgsFromOcf({ OCF_RESKEY_service: `${VIP}:80`, OCF_RESKEY_scheduler: 'wlc', OCF_RESKEY_real_servers: 'x' }), { ok: false })
})

t.test('OCF exit codes without touching the host', async (t) => {
  const noIp = {}
  t.equal((await runOcfIpaddr('validate-all', noIp)).exitCode, OCF.ERR_CONFIGURED, 'validate-all without ip: not configured')
  t.equal((await runOcfIpaddr('start', noIp)).exitCode, OCF.ERR_CONFIGURED)
  t.equal((await runOcfIpaddr('stop', noIp)).exitCode, OCF.SUCCESS, 'stopping what was never configured succeeds')
  t.equal((await runOcfIpaddr('monitor', noIp)).exitCode, OCF.NOT_RUNNING)
  t.equal((await runOcfIpaddr('validate-all', { OCF_RESKEY_ip: VIP })).exitCode, OCF.SUCCESS)
  for (const action of ['notify', 'promote', 'demote', 'migrate_to', 'reload', 'bogus']) {
    t.equal((await runOcfIpaddr(action, { OCF_RESKEY_ip: VIP })).exitCode, OCF.ERR_UNIMPLEMENTED, `IPaddr ${action}: unimplemented`)
    t.equal((await runOcfLvs(action, {})).exitCode, OCF.ERR_UNIMPLEMENTED, `lvs ${action}: unimplemented`)
  }
  const nowhere = { HBTS_LVS_RULES: '/nonexistent/ipvsadm.rules', HBTS_MON_CF: '/nonexistent/mon.cf' }
  t.equal((await runOcfLvs('validate-all', nowhere)).exitCode, OCF.ERR_CONFIGURED, 'lvs with no table anywhere: not configured')
  t.equal((await runOcfLvs('validate-all', { ...nowhere, OCF_RESKEY_mon_cf: MON_CF })).exitCode, OCF.SUCCESS, 'mon_cf gives the table')
  t.equal((await runOcfLvs('validate-all', { ...nowhere, OCF_RESKEY_service: `${VIP}:80`, OCF_RESKEY_scheduler: 'wlc', OCF_RESKEY_real_servers: DIRECTOR })).exitCode, OCF.SUCCESS)
})

t.test('meta-data conforms to ra-api-1.dtd (what ocf-tester checks first)', async (t) => {
  if (!(await have('xmllint')) || !(await have('ocf-tester'))) {
    if (process.env.CI === 'true') t.fail('xmllint/ocf-tester missing (.ci/setup installs libxml2-utils and resource-agents)')
    else t.comment('skipped: xmllint or resource-agents not installed')
    return
  }
  for (const agent of [IPADDR, LVS]) {
    const meta = await execa(agent, ['meta-data'], { timeout: 30_000 })
    t.equal(meta.exitCode, 0)
    const lint = await execa('xmllint', ['--noout', '--valid', '-'], { cwd: DTD_DIR, input: meta.stdout, reject: false, timeout: 30_000 })
    t.equal(lint.exitCode, 0, `${agent} meta-data valid: ${lint.stderr}`)
    t.match(meta.stdout, /<action name="monitor" timeout="20s" interval="10s"/)
  }
})

const isRoot = process.getuid?.() === 0
if (!isRoot) {
  if (process.env.CI === 'true') t.fail('the ocf-tester namespace tests need root under CI=true')
  else t.comment('skipped: ocf-tester in a namespace needs root')
} else if (!(await have('ocf-tester'))) {
  if (process.env.CI === 'true') t.fail('ocf-tester missing (.ci/setup installs resource-agents)')
  else t.comment('skipped: resource-agents (ocf-tester) not installed')
} else {
  await namespaced()
}

/** What ocf-tester 4.12 prints for an agent with start/stop/monitor/validate-all/meta-data and nothing optional. */
function passed(agent: string): string {
  return [
    `Beginning tests for ${agent}...`,
    '* Your agent does not support the notify action (optional)',
    '* Your agent does not support the demote action (optional)',
    '* Your agent does not support the promote action (optional)',
    '* Your agent does not support promotable clones (optional)',
    '* Your agent does not support the reload action (optional)',
    `${agent} passed all tests`,
  ].join('\n')
}

async function namespaced(): Promise<void> {
  const tag = `ocf${randomBytes(3).toString('hex')}`
  const ns = `${tag}-dir`
  const tmp = mkdtempSync(join(tmpdir(), `${tag}-`))
  const standinFiles: string[] = []
  // ocf-tester also runs the agent as an unprivileged user (its "too restrictive permissions" check): a
  // checkout made in a 0700 directory (`git clone . "$(mktemp -d)"`) lets others traverse it for this run only.
  const repoMode = statSync(repo).mode & 0o7777
  if ((repoMode & 0o001) === 0) {
    chmodSync(repo, repoMode | 0o001)
    t.teardown(() => chmodSync(repo, repoMode))
  }
  t.teardown(async () => {
    await removeNamespace(ns)
    for (const f of standinFiles) rmSync(f, { force: true })
    rmSync(tmp, { recursive: true, force: true })
  })
  const ip = async (...args: string[]): Promise<string> => (await execa('ip', args, { timeout: 10_000 })).stdout
  // titanic6 alone: eth0 on the seed's /26 (a veth whose peer stays in the namespace)
  await ip('netns', 'add', ns)
  await ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0')
  await ip('-n', ns, 'addr', 'add', `${DIRECTOR}/26`, 'brd', '129.254.203.191', 'dev', 'eth0')
  for (const l of ['lo', 'eth0', 'peer0']) await ip('-n', ns, 'link', 'set', l, 'up')
  const stub = join(tmp, 'mon-stub')
  writeFileSync(stub, '#!/bin/sh\nsleep 300 &\nwait\n')
  chmodSync(stub, 0o755)
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${join(repo, 'test/bin')}:${process.env.PATH ?? ''}`,
    HBTS_RUN_DIR: join(tmp, 'run'),
    HBTS_HA_DIR: join(tmp, 'ha.d'),
    HBTS_MON_CF: '/nonexistent/mon.cf',
    HBTS_LVS_MONITOR_CMD: stub,
  }
  delete env.IPVSADM_STANDIN_STATE
  // tap's loader hooks would follow every agent run (slow, and `su nobody` cannot write tap's process records)
  for (const k of Object.keys(env)) if (k === 'NODE_OPTIONS' || k.startsWith('TAP') || k.startsWith('_TAPJS')) delete env[k]
  const ocfTester = (agent: string, name: string, params: Record<string, string>) =>
    execa('ip', ['netns', 'exec', ns, 'ocf-tester', '-n', name, ...Object.entries(params).flatMap(([k, v]) => ['-o', `${k}=${v}`]), agent], { env, reject: false, timeout: 300_000 })
  const vipLabels = async (): Promise<string[]> => {
    const links = JSON.parse(await ip('-n', ns, '-j', '-4', 'addr', 'show')) as { addr_info: { local: string; label: string }[] }[]
    return links.flatMap((l) => l.addr_info).filter((a) => a.local === VIP).map((a) => a.label)
  }

  t.test('ocf-tester: IPaddr with ip, cidr_netmask and nic as IPaddr2 takes them', async (t) => {
    const r = await ocfTester(IPADDR, 'vip', { ip: VIP, cidr_netmask: '26', nic: 'eth0' })
    t.comment(r.stdout)
    // Beginning tests for …/resource.d/ocf/IPaddr...
    // * Your agent does not support the notify action (optional)   (and demote, promote, promotable clones, reload)
    // …/resource.d/ocf/IPaddr passed all tests
    t.equal(r.stdout, passed(IPADDR), 'ocf-tester output')
    t.equal(r.exitCode, 0, r.stderr)
    t.same(await vipLabels(), [], 'the VIP is down again after the last stop')
  })

  t.test('ocf-tester on a real server: the VIP starts on lo:0 and every stop puts it back there', async (t) => {
    await ip('-n', ns, 'addr', 'add', `${VIP}/32`, 'dev', 'lo', 'label', 'lo:0')
    await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'])
    const r = await ocfTester(IPADDR, 'vip', { ip: VIP })
    t.comment(r.stdout)
    t.equal(r.stdout, passed(IPADDR), 'ocf-tester output: a lo:0 copy is "not running", start takes it over, stop gives it back')
    t.equal(r.exitCode, 0, r.stderr)
    t.same(await vipLabels(), ['lo:0'], 'the real-server lo:0 is back after the tester’s stops')
    await ip('-n', ns, 'addr', 'del', `${VIP}/32`, 'dev', 'lo')
  })

  const ino = (await execa('ip', ['netns', 'exec', ns, 'stat', '-L', '-c', '%i', '/proc/self/ns/net'])).stdout.trim()
  standinFiles.push(`/run/ipvsadm-standin/netns-${ino}.json`, `/run/ipvsadm-standin/netns-${ino}.json.lock`)
  const table = async (): Promise<string> => (await execa('ip', ['netns', 'exec', ns, 'ipvsadm', '-S', '-n'], { env })).stdout
  const leftover = async (): Promise<string[]> => (await execa('ip', ['netns', 'pids', ns])).stdout.split('\n').filter((p) => p !== '')

  t.test('ocf-tester: lvs with service, scheduler, real_servers, forwarding (stand-in ipvsadm, monitor stub)', async (t) => {
    const r = await ocfTester(LVS, 'lvs', { service: `${VIP}:80`, scheduler: 'wlc', real_servers: `${DIRECTOR},129.254.203.147`, forwarding: 'dr', mon_cf: MON_CF })
    t.comment(r.stdout)
    t.equal(r.stdout, passed(LVS), 'ocf-tester output')
    t.equal(r.exitCode, 0, r.stderr)
    t.equal(await table(), '', 'the IPVS table is empty after the last stop')
    t.same(await leftover(), [], 'no real-server monitor survives')
  })

  t.test('ocf-tester: lvs with the table from the seed mon.cf', async (t) => {
    const r = await ocfTester(LVS, 'lvs', { mon_cf: MON_CF })
    t.comment(r.stdout)
    t.equal(r.stdout, passed(LVS), 'ocf-tester output')
    t.equal(r.exitCode, 0, r.stderr)
    t.equal(await table(), '')
    t.same(await leftover(), [])
  })
}
