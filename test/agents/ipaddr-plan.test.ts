import t from 'tap'
import { arpSuppressionWrites } from '../../lib/agents/arp-suppression.js'
import { chooseRoute, findInterface } from '../../lib/agents/find-interface.js'
import { arpSchedule, arpPacingFromEnv, arpPacingOf, arpPacingToEnv, HEARTBEAT_ARP_PACING } from '../../lib/agents/gratuitous-arp.js'
import { parseSettings } from '../../lib/config/settings.js'
import { parseIpSpec, type IpSpec } from '../../lib/agents/ip-spec.js'
import { parseIpAddrJson, parseIpRouteJson, type Link, type Route } from '../../lib/agents/ip-state.js'
import { freeAlias, planStart, planStatus, planStop, type HostView } from '../../lib/agents/ipaddr-plan.js'

// ResourceManager's reading of status stdout (heartbeat-protocol §9.2), to check our wording against it.
function resourceManagerSaysRunning(stdout: string): boolean {
  if (/[Nn][Oo][Tt] .*[Rr]unning/.test(stdout)) return false
  return /[Rr]unning/.test(stdout) || /OK/.test(stdout)
}

function spec(raw: string): IpSpec {
  const r = parseIpSpec(raw)
  if (!r.ok) throw new Error(r.message)
  return r.spec
}

const eth0 = (addrs: Link['addrs'] = [{ ip: '129.254.203.145', prefixLen: 26, broadcast: '129.254.203.191', label: 'eth0' }]): Link => ({ ifname: 'eth0', up: true, loopback: false, mac: '02:00:00:00:00:05', addrs })
const lo = (extra: Link['addrs'] = []): Link => ({ ifname: 'lo', up: true, loopback: true, addrs: [{ ip: '127.0.0.1', prefixLen: 8, label: 'lo' }, ...extra] })
const seedRoutes: Route[] = [
  { dst: '0.0.0.0', prefixLen: 0, dev: 'eth0', metric: 0, gateway: '129.254.203.129' },
  { dst: '129.254.203.128', prefixLen: 26, dev: 'eth0', metric: 0 },
]
const host = (links: Link[], extra: Partial<HostView> = {}): HostView => ({ links, routes: seedRoutes, arpSysctls: { arpIgnore: 0, arpAnnounce: 0 }, ...extra })

t.test('spec forms as heartbeat 3.0.6 splits them', async (t) => {
  t.same(spec('129.254.203.149'), { raw: '129.254.203.149', ip: '129.254.203.149' })
  t.same(spec('10.0.0.100/24/eth0'), { raw: '10.0.0.100/24/eth0', ip: '10.0.0.100', prefixLen: 24, nic: 'eth0' })
  t.same(spec('10.0.0.100/255.255.255.0/10.0.0.255'), { raw: '10.0.0.100/255.255.255.0/10.0.0.255', ip: '10.0.0.100', prefixLen: 24, broadcast: '10.0.0.255' })
  t.same(spec('10.0.0.100/24/enp0s31f6:3/10.0.0.255').nic, 'enp0s31f6', 'a label names its base interface')
  for (const bad of ['10.0.0', '10.0.0.300', '10.0.0.1/33', '10.0.0.1/255.0.255.0', '10.0.0.1/24/eth0/10.0.0.999', '10.0.0.1/24/10.0.0.255/x', 'a/b/c/d/e']) {
    const r = parseIpSpec(bad)
    t.equal(r.ok, false, `${bad} refused`)
    if (!r.ok) t.match(r.message, bad.split('/')[0] ?? '', 'message quotes the offending text')
  }
})

t.test('route choice: longest prefix, then lowest metric, never lo', async (t) => {
  const routes: Route[] = [
    { dst: '0.0.0.0', prefixLen: 0, dev: 'eth9', metric: 0 },
    { dst: '10.0.0.0', prefixLen: 8, dev: 'eth1', metric: 0 },
    { dst: '10.1.0.0', prefixLen: 16, dev: 'eth2', metric: 100 },
    { dst: '10.1.0.0', prefixLen: 16, dev: 'eth3', metric: 50 },
    { dst: '10.1.2.3', prefixLen: 32, dev: 'lo', metric: 0 },
  ]
  t.equal(chooseRoute('10.1.2.3', routes)?.dev, 'eth3', '/16 beats /8 and the default; metric 50 beats 100; lo skipped')
  t.equal(chooseRoute('10.9.9.9', routes)?.dev, 'eth1')
  t.equal(chooseRoute('192.168.1.1', routes)?.dev, 'eth9', 'only the default route')
  t.equal(chooseRoute('10.1.2.3', routes, 'eth2')?.dev, 'eth2', 'a given nic restricts the choice')
  const links: Link[] = ['eth1', 'eth2', 'eth3', 'eth9'].map((n) => ({ ifname: n, up: true, loopback: false, addrs: [] }))
  const found = findInterface(spec('10.1.2.3'), links, routes)
  t.same(found, { ok: true, placement: { nic: 'eth3', prefixLen: 16, broadcast: '10.1.255.255' } })
  const viaDefault = findInterface(spec('192.168.1.1'), links, routes)
  t.equal(viaDefault.ok, false, 'default route without a netmask is refused (findif)')
  if (!viaDefault.ok) t.match(viaDefault.message, /default route/)
  t.same(findInterface(spec('192.168.1.1/24'), links, routes), { ok: true, placement: { nic: 'eth9', prefixLen: 24, broadcast: '192.168.1.255' } })
  const noNic = findInterface(spec('10.1.2.3/24/eth7'), links, routes)
  t.same(noNic.ok ? 0 : noNic.exitCode, 6, 'unknown nic is a configuration error')
  // Any interface name works: a route via an oddly named device is followed.
  const odd = findInterface(spec('172.16.0.9'), [{ ifname: 'br-lan.42', up: true, loopback: false, addrs: [] }], [{ dst: '172.16.0.0', prefixLen: 12, dev: 'br-lan.42', metric: 0 }])
  t.same(odd.ok && odd.placement, { nic: 'br-lan.42', prefixLen: 12, broadcast: '172.31.255.255' })
})

t.test('ip -j readers', async (t) => {
  const links = parseIpAddrJson(JSON.stringify([
    { ifname: 'lo', flags: ['LOOPBACK', 'UP'], link_type: 'loopback', address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, label: 'lo' }, { family: 'inet', local: '129.254.203.149', prefixlen: 32, label: 'lo:0' }] },
    { ifname: 'eth0', flags: ['BROADCAST', 'UP'], link_type: 'ether', address: '02:aa:00:00:00:06', addr_info: [{ family: 'inet6', local: 'fe80::1', prefixlen: 64 }, { family: 'inet', local: '129.254.203.146', prefixlen: 26, broadcast: '129.254.203.191', label: 'eth0' }] },
  ]))
  t.ok(links.ok)
  if (links.ok) {
    t.same(links.value[0]?.addrs[1], { ip: '129.254.203.149', prefixLen: 32, label: 'lo:0' })
    t.equal(links.value[0]?.loopback, true)
    t.equal(links.value[1]?.mac, '02:aa:00:00:00:06')
    t.equal(links.value[1]?.addrs.length, 1, 'IPv6 skipped')
  }
  const routes = parseIpRouteJson('[{"dst":"default","gateway":"129.254.203.129","dev":"eth0","flags":[]},{"dst":"129.254.203.128/26","dev":"eth0","metric":5,"flags":[]},{"dst":"10.0.0.9","dev":"eth0","flags":[]},{"type":"blackhole","dst":"10.9.0.0/16","flags":[]}]')
  t.same(routes.ok && routes.value, [
    { dst: '0.0.0.0', prefixLen: 0, dev: 'eth0', metric: 0, gateway: '129.254.203.129' },
    { dst: '129.254.203.128', prefixLen: 26, dev: 'eth0', metric: 5 },
    { dst: '10.0.0.9', prefixLen: 32, dev: 'eth0', metric: 0 },
  ])
  const bad = parseIpAddrJson('not json')
  t.equal(bad.ok, false, 'garbage is a value, not a throw')
  t.equal(parseIpRouteJson('{}').ok, false)
})

t.test('alias numbering picks the first free eth0:N', async (t) => {
  t.equal(freeAlias('eth0', [eth0()]), 'eth0:0')
  t.equal(freeAlias('eth0', [eth0([{ ip: '1.1.1.1', prefixLen: 24, label: 'eth0' }, { ip: '1.1.1.2', prefixLen: 24, label: 'eth0:0' }, { ip: '1.1.1.3', prefixLen: 24, label: 'eth0:2' }])]), 'eth0:1')
  t.equal(freeAlias('enp0s31f6abcdef', []), undefined, 'a label longer than 15 characters is not made')
})

t.test('start on the master: eth0:0 with findif netmask and broadcast, gratuitous ARP', async (t) => {
  const plan = planStart(spec('129.254.203.149'), host([lo(), eth0()]))
  t.ok(plan.ok)
  if (!plan.ok) return
  t.same(plan.steps, [
    { type: 'hook', name: 'local_takeip', arg: '129.254.203.149' },
    { type: 'ip', argv: ['addr', 'add', '129.254.203.149/26', 'brd', '129.254.203.191', 'dev', 'eth0', 'label', 'eth0:0'], why: 'bring 129.254.203.149 up on eth0:0' },
    { type: 'arp-start', nic: 'eth0', ip: '129.254.203.149' },
  ])
  t.equal(plan.steps.filter((s) => s.type === 'ip' && s.argv.includes('ifconfig')).length, 0)
})

t.test('lo:0 swap: takeover removes the lo copy first and remembers it; release puts it back with ARP suppressed', async (t) => {
  const vipOnLo = { ip: '129.254.203.149', prefixLen: 32, label: 'lo:0' }
  const titanic6 = [lo([vipOnLo]), eth0([{ ip: '129.254.203.146', prefixLen: 26, broadcast: '129.254.203.191', label: 'eth0' }])]
  const st = planStatus(spec('129.254.203.149'), titanic6, 'status')
  t.equal(resourceManagerSaysRunning(st.stdout), false, 'a VIP on lo:0 is not "running": takeover is not skipped')
  const start = planStart(spec('129.254.203.149'), host(titanic6))
  t.ok(start.ok)
  if (!start.ok) return
  const types = start.steps.map((s) => s.type)
  t.same(types, ['save-lo', 'ip', 'hook', 'ip', 'arp-start'], 'remember, delete from lo, hook, add on eth0, ARP')
  t.same(start.steps[0], { type: 'save-lo', record: { ip: '129.254.203.149', label: 'lo:0', prefixLen: 32 } })
  t.same(start.steps[1]?.type === 'ip' && start.steps[1].argv, ['addr', 'del', '129.254.203.149/32', 'dev', 'lo'])
  t.same(start.steps[3]?.type === 'ip' && start.steps[3].argv.slice(-4), ['dev', 'eth0', 'label', 'eth0:0'], 'eth0:0 even though lo:0 existed')

  // After the takeover: VIP on eth0:0, record present.
  const held = [lo(), eth0([{ ip: '129.254.203.146', prefixLen: 26, label: 'eth0' }, { ip: '129.254.203.149', prefixLen: 26, label: 'eth0:0' }])]
  t.equal(resourceManagerSaysRunning(planStatus(spec('129.254.203.149'), held, 'status').stdout), true)
  const stop = planStop(spec('129.254.203.149'), host(held, { loRecord: { ip: '129.254.203.149', label: 'lo:0', prefixLen: 32 } }))
  t.ok(stop.ok)
  if (!stop.ok) return
  t.same(stop.steps.map((s) => (s.type === 'ip' ? `ip ${s.argv.join(' ')}` : s.type === 'sysctl' ? `${s.write.key}=${s.write.value}` : s.type)), [
    'arp-stop',
    'hook',
    'net/ipv4/conf/all/arp_ignore=1',
    'net/ipv4/conf/all/arp_announce=2',
    'ip addr add 129.254.203.149/32 dev lo label lo:0',
    'ip addr del 129.254.203.149/26 dev eth0',
    'forget-lo',
  ], 'lo:0 comes back before eth0:0 goes: a client still sending to this MAC is served throughout (the real-server role)')
  // Values already at least as strict are left alone (the kernel takes the maximum anyway).
  const strict = planStop(spec('129.254.203.149'), host(held, { loRecord: { ip: '129.254.203.149', label: 'lo:0', prefixLen: 32 }, arpSysctls: { arpIgnore: 2, arpAnnounce: 2 } }))
  t.equal(strict.ok && strict.steps.filter((s) => s.type === 'sysctl').length, 0)
})

t.test('stop is idempotent and never touches an lo VIP it did not move', async (t) => {
  const vipOnLo = { ip: '129.254.203.149', prefixLen: 32, label: 'lo:0' }
  const stop = planStop(spec('129.254.203.149'), host([lo([vipOnLo]), eth0()]))
  t.same(stop.ok && stop.steps, [{ type: 'arp-stop', ip: '129.254.203.149' }], 'real-server lo:0 stays; nothing else to do')
  const again = planStop(spec('129.254.203.149'), host([lo(), eth0()]))
  t.same(again.ok && again.steps, [{ type: 'arp-stop', ip: '129.254.203.149' }])
  const startTwice = planStart(spec('129.254.203.149'), host([lo(), eth0([{ ip: '129.254.203.145', prefixLen: 26, label: 'eth0' }, { ip: '129.254.203.149', prefixLen: 26, label: 'eth0:0' }])]))
  t.same(
    startTwice.ok && startTwice.steps,
    [
      { type: 'arp-stop', ip: '129.254.203.149' },
      { type: 'arp-start', nic: 'eth0', ip: '129.254.203.149' },
    ],
    'start while held changes no address, only announces it again (gratuitous ARP)',
  )
  const wrongNic = planStart(spec('129.254.203.149/26/eth1'), host([lo(), eth0([{ ip: '129.254.203.149', prefixLen: 26, label: 'eth0:0' }])]))
  t.same(wrongNic.ok ? 0 : wrongNic.exitCode, 1, 'held on another interface than configured: OCF generic error')
})

t.test('status wording reads correctly under ResourceManager rules', async (t) => {
  const up = planStatus(spec('10.0.0.5'), [eth0([{ ip: '10.0.0.5', prefixLen: 24, label: 'eth0:0' }])], 'status')
  const down = planStatus(spec('10.0.0.5'), [eth0()], 'status')
  t.equal(resourceManagerSaysRunning(up.stdout), true)
  t.equal(up.exitCode, 0)
  t.equal(resourceManagerSaysRunning(down.stdout), false)
  t.equal(down.exitCode, 7, 'OCF_NOT_RUNNING like the 3.0.6 wrapper')
  const linkDown: Link = { ...eth0([{ ip: '10.0.0.5', prefixLen: 24, label: 'eth0:0' }]), up: false }
  t.equal(planStatus(spec('10.0.0.5'), [linkDown], 'monitor').running, false, 'monitor wants the link up')
})

t.test('ARP suppression (what the hidden flag did): raised to arp_ignore=1, arp_announce=2, never lowered', async (t) => {
  t.same(arpSuppressionWrites({ arpIgnore: 0, arpAnnounce: 1 }).map((w) => `${w.key}=${w.value}`), ['net/ipv4/conf/all/arp_ignore=1', 'net/ipv4/conf/all/arp_announce=2'])
  t.same(arpSuppressionWrites({ arpIgnore: 1, arpAnnounce: 2 }), [], 'already in effect')
  t.same(arpSuppressionWrites({ arpIgnore: 8, arpAnnounce: 0 }).map((w) => w.value), ['2'], 'never lowers a stricter value')
})

t.test('gratuitous ARP: heartbeat count by default, request then reply each pair, first at once, pacing from env', async (t) => {
  t.same(HEARTBEAT_ARP_PACING, { pairs: 10, intervalMs: 500 })
  const sched = arpSchedule('eth0', '129.254.203.149', HEARTBEAT_ARP_PACING)
  t.equal(sched.length, 20, '10 pairs = 20 frames, as send_arp -r 10')
  t.same(sched.slice(0, 3), [
    { atMs: 0, argv: ['-q', '-U', '-c', '1', '-I', 'eth0', '129.254.203.149'] },
    { atMs: 250, argv: ['-q', '-A', '-c', '1', '-I', 'eth0', '129.254.203.149'] },
    { atMs: 500, argv: ['-q', '-U', '-c', '1', '-I', 'eth0', '129.254.203.149'] },
  ])
  t.equal(sched.at(-1)?.atMs, 4750, 'about 4.75 s in all, like send_arp')
  const p = arpPacingFromEnv({ HBTS_ARP_REPEAT: '5', HBTS_ARP_INTERVAL_MS: '2000' })
  t.same(p.ok && arpSchedule('eth1', '10.0.0.1', p.pacing).map((s) => s.atMs), [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000])
  const off = arpPacingFromEnv({ HBTS_ARP_REPEAT: '0' })
  t.same(off.ok && arpSchedule('eth0', '10.0.0.1', off.pacing), [])
  const bad = arpPacingFromEnv({ HBTS_ARP_INTERVAL_MS: 'fast' })
  t.equal(bad.ok, false)
  if (!bad.ok) t.match(bad.message, /"fast"/)
})

t.test('gratuitous ARP: every pacing heartbeat-ts.conf accepts reaches IPaddr as written (the daemon carries it in HBTS_ARP_*)', async (t) => {
  for (const [count, intervalMs] of [[1, 1], [3, 5], [10, 500], [100, 10000]] as const) {
    const { settings, diagnostics } = parseSettings(`[ipaddr]\narp_count = ${count}\narp_interval_ms = ${intervalMs}\n`, 'heartbeat-ts.conf')
    t.same(diagnostics, [], `arp_count = ${count}, arp_interval_ms = ${intervalMs} is a valid file`)
    const carried = arpPacingFromEnv(arpPacingToEnv(arpPacingOf(settings.ipaddr)))
    t.same(carried, { ok: true, pacing: { pairs: count, intervalMs } }, `IPaddr paces ${count} pairs every ${intervalMs} ms`)
  }
  t.same(arpPacingOf(parseSettings('', 'heartbeat-ts.conf').settings.ipaddr), HEARTBEAT_ARP_PACING, "the file's default is heartbeat's, which IPaddr uses when run by hand")
})
