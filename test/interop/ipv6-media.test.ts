// Issue 12 point 3: the IPv6 media in namespaces. (a) A heartbeat-ts pair whose only link is ucast6
// (then mcast6) forms a cluster and fails over; (b) with a second link (bcast eth0 plus ucast6 over a
// crossover eth1 on link-local addresses), cutting either family never declares the peer dead and
// the VIP stays put; (c) a real 3.0.6 node (Debian's ucast6 and mcast6 plugins) and heartbeat-ts
// form one cluster over either alone. Addresses skip duplicate detection so they are usable at once.

import t, { type Test } from 'tap'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { gate, realHeartbeatAvailability, waitFor, type Availability, type Host } from '../netns/kit.js'
import { realLog, realNodeStatus, type SeedNode } from '../netns/seed-node.js'
import { buildPair, complaints, deathSeenAt, holdsSeedVip as holdsVip, logged, startBoth, statusSeenBy, vipHolders, type Impl, type Pair } from './pair-scenario.js'

const ULA: Record<SeedNode, string> = { titanic5: 'fd00::145', titanic6: 'fd00::146' }
const CROSSOVER: Record<SeedNode, string> = { titanic5: 'fe80::5', titanic6: 'fe80::6' }
const DEADTIME_S = 4

/** Fast timers, one shared file for both nodes (each skips the line naming itself), the given media. */
function haCf(media: readonly string[]): string {
  return [
    'logfile /var/log/ha-log',
    'debugfile /var/log/ha-debug',
    'logfacility local0',
    'keepalive 1',
    `deadtime ${DEADTIME_S}`,
    'warntime 2',
    'initdead 10',
    'udpport 1001',
    ...media,
    'auto_failback on',
    'node titanic5.etri.re.kr',
    'node titanic6.etri.re.kr',
    '',
  ].join('\n')
}

async function run(argv: readonly string[]): Promise<string> {
  const [cmd = '', ...args] = argv
  const r = await execa(cmd, args, { reject: false, timeout: 30_000, stdin: 'ignore' })
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: exit ${r.exitCode}: ${String(r.stderr).trim()}`)
  return String(r.stdout)
}

/** Until no address of the host is tentative (duplicate detection of the kernel's own link-local ones). */
async function waitNoTentative(host: Host): Promise<void> {
  await waitFor(`${host.name}: IPv6 addresses out of duplicate detection`, async () => ((await run(['ip', '-n', host.ns, '-6', 'addr', 'show', 'tentative'])).trim() === '' ? true : undefined), 10_000, 100)
}

async function addUla(pair: Pair): Promise<void> {
  for (const n of Object.values(pair.nodes)) {
    await run(['ip', '-n', n.host.ns, 'addr', 'add', `${ULA[n.seed]}/64`, 'dev', 'eth0', 'nodad'])
    await waitNoTentative(n.host)
  }
}

/** A crossover cable eth1 between the two nodes, IPv6 only, with fe80::5 and fe80::6. */
async function addCrossover(pair: Pair): Promise<void> {
  const a = pair.nodes.titanic5.host
  const b = pair.nodes.titanic6.host
  await run(['ip', '-n', a.ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', b.ns])
  for (const n of Object.values(pair.nodes)) {
    await run(['ip', 'netns', 'exec', n.host.ns, 'sysctl', '-qw', 'net.ipv6.conf.eth1.accept_dad=0'])
    await run(['ip', '-n', n.host.ns, 'addr', 'add', `${CROSSOVER[n.seed]}/64`, 'dev', 'eth1', 'nodad'])
    await run(['ip', '-n', n.host.ns, 'link', 'set', 'eth1', 'up'])
    await waitNoTentative(n.host)
  }
}

/** Drop one family's heartbeats (udp port 1001) in and out of a host; undone by heal(). */
async function cut(host: Host, family: 'ipv4' | 'ipv6'): Promise<void> {
  const rule = `meta nfproto ${family} udp dport 1001 drop`
  const rules = [
    'table inet hbcut {',
    `  chain in { type filter hook input priority 0; policy accept; ${rule}; }`,
    `  chain out { type filter hook output priority 0; policy accept; ${rule}; }`,
    '}',
    '',
  ].join('\n')
  await host.writeFile('cut.nft', rules)
  await run(['ip', 'netns', 'exec', host.ns, 'nft', '-f', join(host.root, 'cut.nft')])
}

async function heal(host: Host): Promise<void> {
  await run(['ip', 'netns', 'exec', host.ns, 'nft', 'delete', 'table', 'inet', 'hbcut'])
}

async function onlyLinkPair(t: Test, prefix: string, media: readonly string[], medium: RegExp): Promise<void> {
  const pair = await buildPair(t, { prefix, auth: 'sha1', impl: { titanic5: 'ts', titanic6: 'ts' }, haCf: haCf(media) })
  await addUla(pair)
  const a = pair.nodes.titanic5
  const b = pair.nodes.titanic6
  await startBoth(pair)
  t.pass('both active over the IPv6 medium alone')
  t.ok(logged(a, medium).length > 0, `titanic5 logged the medium opened: ${medium.source.replaceAll('\\', '')}`)
  await waitFor('titanic5 to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic5' ? true : undefined), 30_000, 300)
  t.pass('titanic5 holds the VIP, titanic6 does not')

  await a.host.linkDown()
  const killedAt = Date.now()
  await a.host.killAll('SIGKILL')
  const seen = await deathSeenAt(b, a.name, killedAt, DEADTIME_S * 1000 + 10_000)
  t.ok(seen - killedAt <= DEADTIME_S * 1000 + 1500, `titanic6 declared titanic5 dead ${seen - killedAt} ms after the crash (deadtime ${DEADTIME_S} s)`)
  await waitFor('titanic6 to take the VIP', async () => ((await holdsVip(b.host)) ? true : undefined), 30_000, 300)
  t.pass('titanic6 took the VIP over')
  t.notMatch(b.ts?.text() ?? '', /bad packet on |ERROR:|CRIT:/, 'no bad packets or errors logged')
}

t.test('(a) ucast6 as the only link: a heartbeat-ts pair forms a cluster and fails over', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await onlyLinkPair(t, 'hbi6u', [`ucast6 eth0 ${ULA.titanic5}`, `ucast6 eth0 ${ULA.titanic6}`], /ucast6 eth0 \[fd00::146\]:1001/)
})

t.test('(a) mcast6 as the only link: a heartbeat-ts pair forms a cluster and fails over', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await onlyLinkPair(t, 'hbi6m', ['mcast6 eth0 ff12::1:2:3:4 1001 1 0'], /mcast6 eth0 \[ff12::1:2:3:4\]:1001 hops 1 loop 0/)
})

t.test('(b) bcast eth0 plus ucast6 on a crossover eth1: cutting either family declares nobody dead, the VIP stays', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const media = ['bcast eth0', `ucast6 eth1 ${CROSSOVER.titanic5}`, `ucast6 eth1 ${CROSSOVER.titanic6}`]
  const pair = await buildPair(t, { prefix: 'hbi6two', auth: 'sha1', impl: { titanic5: 'ts', titanic6: 'ts' }, haCf: haCf(media) })
  await addCrossover(pair)
  const a = pair.nodes.titanic5
  const b = pair.nodes.titanic6
  await startBoth(pair)
  await waitFor('titanic5 to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic5' ? true : undefined), 30_000, 300)

  for (const [family, link] of [['ipv6', 'eth1'], ['ipv4', 'eth0']] as const) {
    const fromA = a.ts?.proc.lines.length ?? 0
    const fromB = b.ts?.proc.lines.length ?? 0
    await cut(b.host, family)
    // The cut link must be seen dead (so the cut is real), then stay cut well past deadtime.
    await a.ts?.proc.waitForLine(new RegExp(`Link ${b.name.replaceAll('.', '\\.')}:${link} dead`), DEADTIME_S * 1000 + 10_000, fromA)
    t.pass(`${family} cut: titanic5 sees titanic6's ${link} link dead`)
    await new Promise((r) => setTimeout(r, 2 * DEADTIME_S * 1000))
    t.same([...logged(a, /is dead/, fromA), ...logged(b, /is dead/, fromB)], [], `${family} cut for ${3 * DEADTIME_S} s: neither node declared the other dead`)
    t.equal(await statusSeenBy(a, b.name), 'active', `${family} cut: titanic5 still sees titanic6 active`)
    t.equal(await statusSeenBy(b, a.name), 'active', `${family} cut: titanic6 still sees titanic5 active`)
    t.same(await vipHolders(pair), ['titanic5'], `${family} cut: the VIP stayed on titanic5 alone`)
    await heal(b.host)
    await a.ts?.proc.waitForLine(new RegExp(`Link ${b.name.replaceAll('.', '\\.')}:${link} up`), DEADTIME_S * 1000 + 10_000, fromA)
    t.pass(`${family} healed: the ${link} link is up again`)
  }
  t.notMatch(a.ts?.text() ?? '', /bad packet on |ERROR:|CRIT:/, 'no bad packets or errors logged')
})

const PLUGINS = '/usr/lib/heartbeat/plugins/HBcomm'

async function realPluginAvailability(plugin: 'ucast6' | 'mcast6'): Promise<Availability> {
  const a = await realHeartbeatAvailability()
  if (!a.ok) return a
  const file = `${PLUGINS}/${plugin}.so`
  try {
    await access(file)
    return { ok: true }
  } catch {
    return { ok: false, reason: `${file} missing (the Debian heartbeat package ships it)` }
  }
}

async function mixedPair(t: Test, prefix: string, media: readonly string[], started: RegExp): Promise<void> {
  const impl: Record<SeedNode, Impl> = { titanic5: 'ts', titanic6: 'real' }
  const pair = await buildPair(t, { prefix, auth: 'sha1', impl, haCf: haCf(media) })
  await addUla(pair)
  const ts = pair.nodes.titanic5
  const real = pair.nodes.titanic6
  await startBoth(pair)
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'cl_status on the real node: heartbeat-ts active')
  t.equal(await statusSeenBy(ts, real.name), 'active', 'heartbeat-ts sees the real node active')
  t.match(await realLog(real.host), started, 'the real node runs its IPv6 plugin')
  await new Promise((r) => setTimeout(r, 10_000))
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'still active 10 s later')
  t.same(complaints(await realLog(real.host)), [], 'the real node logged no complaints')
  t.notMatch(ts.ts?.text() ?? '', /bad packet on |ERROR:|CRIT:/, 'heartbeat-ts refused no packet of the real node')
}

t.test('(c) real 3.0.6 and heartbeat-ts over ucast6 alone form one cluster', async (t) => {
  if (!gate(t, await realPluginAvailability('ucast6'))) return
  await mixedPair(t, 'hbi6mixu', [`ucast6 eth0 ${ULA.titanic5}`, `ucast6 eth0 ${ULA.titanic6}`], /ucast6: heartbeat started for \[fd00::145\]:1001 on interface eth0/)
})

t.test('(c) real 3.0.6 and heartbeat-ts over mcast6 alone form one cluster', async (t) => {
  if (!gate(t, await realPluginAvailability('mcast6'))) return
  await mixedPair(t, 'hbi6mixm', ['mcast6 eth0 ff12::1:2:3:4 1001 1 0'], /UDP multicast heartbeat started for \[ff12::1:2:3:4\]:1001 on interface eth0 \(hops=1 loop=0\)/)
})
