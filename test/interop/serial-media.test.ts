// Issue 12 point 3: the serial medium in namespaces, over a socat pty pair standing in for a
// null-modem cable (both nodes share the host's ptys). (a) A heartbeat-ts pair whose only link is
// the serial line forms a cluster and fails over; (b) with bcast eth0 as a second link, pulling the
// cable or the network never declares the peer dead and the VIP stays put; (c) a real 3.0.6 node
// (Debian's serial plugin) and heartbeat-ts form one cluster over the serial line alone, with no
// complaint in either log, and takes the VIP over when heartbeat-ts crashes.

import t, { type Test } from 'tap'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gate, realHeartbeatAvailability, waitFor, type Availability } from '../netns/kit.js'
import { realLog, realNodeStatus, type SeedNode } from '../netns/seed-node.js'
import { buildPair, complaints, deathSeenAt, holdsSeedVip as holdsVip, logged, startBoth, statusSeenBy, vipHolders, type Impl, type Pair, type PairNode } from './pair-scenario.js'
import { ptyPair, socatAvailability, type PtyPair } from '../support/pty-pair.js'

const DEADTIME_S = 4

/** Fast timers, this node's end of the cable, and any other media. */
function haCf(device: string, extra: readonly string[]): string {
  return [
    'logfile /var/log/ha-log',
    'debugfile /var/log/ha-debug',
    'logfacility local0',
    'keepalive 1',
    `deadtime ${DEADTIME_S}`,
    'warntime 2',
    'initdead 10',
    // udpport before every medium (3.0.6 insists), only where a UDP medium follows
    ...(extra.length > 0 ? ['udpport 1001'] : []),
    'baud 19200',
    `serial ${device}`,
    ...extra,
    'auto_failback on',
    'node titanic5.etri.re.kr',
    'node titanic6.etri.re.kr',
    '',
  ].join('\n')
}

async function availability(needReal: boolean): Promise<Availability> {
  const a = await realHeartbeatAvailability()
  if (!a.ok) return a
  const s = await socatAvailability()
  if (!s.ok) return s
  if (needReal) {
    const plugin = '/usr/lib/heartbeat/plugins/HBcomm/serial.so'
    try {
      await access(plugin)
    } catch {
      return { ok: false, reason: `${plugin} missing (the Debian heartbeat package ships it)` }
    }
  }
  return { ok: true }
}

interface SerialPair {
  pair: Pair
  cable: PtyPair
  a: PairNode
  b: PairNode
}

/** The pair with titanic5 on one end of a fresh cable and titanic6 on the other. */
async function serialPair(t: Test, prefix: string, impl: Record<SeedNode, Impl>, extra: readonly string[]): Promise<SerialPair> {
  // not under the kit's prefix: createKit clears /tmp/<prefix>-* left by an earlier run
  const dir = await mkdtemp(join(tmpdir(), `hbts-tty-${prefix}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cable = await ptyPair(dir, (fn) => t.teardown(fn))
  const pair = await buildPair(t, { prefix, auth: 'sha1', impl })
  const a = pair.nodes.titanic5
  const b = pair.nodes.titanic6
  await a.host.writeFile('etc/ha.d/ha.cf', haCf(cable.a, extra))
  await b.host.writeFile('etc/ha.d/ha.cf', haCf(cable.b, extra))
  return { pair, cable, a, b }
}


const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

t.test('(a) serial as the only link: a heartbeat-ts pair forms a cluster and fails over', async (t) => {
  if (!gate(t, await availability(false))) return
  const { pair, cable, a, b } = await serialPair(t, 'hbiser', { titanic5: 'ts', titanic6: 'ts' }, [])
  await startBoth(pair)
  t.pass('both active over the serial line alone')
  t.ok(logged(a, new RegExp(`Starting serial heartbeat on tty ${esc(cable.a)} \\(19200 baud\\)`)).length > 0, 'titanic5 logged the serial line opened, in 3.0.6 wording')
  await waitFor('titanic5 to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic5' ? true : undefined), 30_000, 300)
  t.pass('titanic5 holds the VIP, titanic6 does not')
  t.ok((await a.host.readFile(`run/lock/LCK..a`)).toString('latin1').trim().length > 0, 'titanic5 holds the UUCP lock of its tty')

  await a.host.linkDown()
  const killedAt = Date.now()
  await a.host.killAll('SIGKILL')
  const seen = await deathSeenAt(b, a.name, killedAt, DEADTIME_S * 1000 + 10_000)
  t.ok(seen - killedAt <= DEADTIME_S * 1000 + 1500, `titanic6 declared titanic5 dead ${seen - killedAt} ms after the crash (deadtime ${DEADTIME_S} s)`)
  await waitFor('titanic6 to take the VIP', async () => ((await holdsVip(b.host)) ? true : undefined), 30_000, 300)
  t.pass('titanic6 took the VIP over')
  t.notMatch(b.ts?.text() ?? '', /bad packet on |bad frame on |ERROR:|CRIT:|not sent on serial/, 'no bad packets, bad frames or errors logged')
})

t.test('(b) bcast eth0 plus serial: pulling the cable or the network declares nobody dead, the VIP stays', async (t) => {
  if (!gate(t, await availability(false))) return
  const { pair, cable, a, b } = await serialPair(t, 'hbisertwo', { titanic5: 'ts', titanic6: 'ts' }, ['bcast eth0'])
  await startBoth(pair)
  await waitFor('titanic5 to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic5' ? true : undefined), 30_000, 300)
  const cuts: Array<{ what: string; link: string; cut: () => Promise<void>; heal: () => Promise<void> }> = [
    { what: 'serial cable', link: cable.a, cut: () => cable.cut(), heal: () => cable.plug() },
    { what: 'network', link: 'eth0', cut: () => b.host.linkDown(), heal: () => b.host.linkUp() },
  ]
  for (const c of cuts) {
    const fromA = a.ts?.proc.lines.length ?? 0
    const fromB = b.ts?.proc.lines.length ?? 0
    await c.cut()
    // The pulled link (named, as in 3.0.6, after titanic5's own medium) must be seen dead (so the
    // cut is real), then stay pulled well past deadtime.
    await a.ts?.proc.waitForLine(new RegExp(`Link ${esc(b.name)}:${esc(c.link)} dead`), DEADTIME_S * 1000 + 10_000, fromA)
    t.pass(`${c.what} pulled: titanic5 sees titanic6's ${c.link} link dead`)
    await new Promise((r) => setTimeout(r, 2 * DEADTIME_S * 1000))
    t.same([...logged(a, /is dead/, fromA), ...logged(b, /is dead/, fromB)], [], `${c.what} pulled for ${3 * DEADTIME_S} s: neither node declared the other dead`)
    t.equal(await statusSeenBy(a, b.name), 'active', `${c.what} pulled: titanic5 still sees titanic6 active`)
    t.equal(await statusSeenBy(b, a.name), 'active', `${c.what} pulled: titanic6 still sees titanic5 active`)
    t.same(await vipHolders(pair), ['titanic5'], `${c.what} pulled: the VIP stayed on titanic5 alone`)
    await c.heal()
    await a.ts?.proc.waitForLine(new RegExp(`Link ${esc(b.name)}:${esc(c.link)} up`), DEADTIME_S * 1000 + 10_000, fromA)
    t.pass(`${c.what} back: the ${c.link} link is up again`)
  }
  t.notMatch(a.ts?.text() ?? '', /bad packet on |bad frame on |CRIT:|not sent on serial/, 'no bad packets or frames logged')
})

t.test('(c) real 3.0.6 and heartbeat-ts over a serial line alone form one cluster', async (t) => {
  if (!gate(t, await availability(true))) return
  const { pair, cable, a: ts, b: real } = await serialPair(t, 'hbisermix', { titanic5: 'ts', titanic6: 'real' }, [])
  await startBoth(pair)
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'cl_status on the real node: heartbeat-ts active')
  t.equal(await statusSeenBy(ts, real.name), 'active', 'heartbeat-ts sees the real node active')
  t.match(await realLog(real.host), new RegExp(`Starting serial heartbeat on tty ${esc(cable.b)}`), 'the real node runs its serial plugin on its end')
  await new Promise((r) => setTimeout(r, 10_000))
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'still active 10 s later')
  t.equal(await statusSeenBy(ts, real.name), 'active', 'heartbeat-ts still sees the real node active 10 s later')
  t.same(complaints(await realLog(real.host)), [], 'the real node logged no complaints')
  t.notMatch(ts.ts?.text() ?? '', /bad packet on |bad frame on |ERROR:|CRIT:|not sent on serial/, 'heartbeat-ts refused no frame of the real node and logged no error')

  // heartbeat-ts crashes: the real node, hearing nothing more on its tty, takes the VIP over
  await waitFor('titanic5 (heartbeat-ts) to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic5' ? true : undefined), 30_000, 300)
  await ts.host.linkDown()
  const killedAt = Date.now()
  await ts.host.killAll('SIGKILL')
  const seen = await deathSeenAt(real, ts.name, killedAt, DEADTIME_S * 1000 + 15_000)
  t.ok(seen - killedAt <= DEADTIME_S * 1000 + 3000, `the real node declared heartbeat-ts dead ${seen - killedAt} ms after the crash (deadtime ${DEADTIME_S} s)`)
  await waitFor('the real node to take the VIP', async () => ((await holdsVip(real.host)) ? true : undefined), 30_000, 300)
  t.pass('the real node took the VIP over')
})
