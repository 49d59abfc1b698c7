// hbctl status against a running two-node heartbeat-ts cluster (seed ha.cf + auto_failback on):
// its JSON checked against the real state (VIP on eth0, status packets on the wire, hb_generation)
// before and after a crash of the holder and its return; the human table fits 80 columns; the
// Debian hb_standby, writing into heartbeat-ts's FIFO, moves the group to the peer; hbctl reload
// and hbctl takeover through the control socket.

import t from 'tap'
import type { Test } from 'tap'
import { gate, realHeartbeatAvailability, waitFor, type Host } from '../netns/kit.js'
import { startNode, waitBothActive, type Pair } from '../interop/pair-scenario.js'
import type { ClusterStatus, NodeStatus } from '../../lib/control/cluster-status.js'
import { T5, T6, VIP, fileGeneration, hasVip, hbctl, startOpsPair, statusJson, waitForHolder } from './ops-cluster.js'

function node(s: ClusterStatus, name: string): NodeStatus | undefined {
  return s.nodes.find((n) => n.name === name)
}

/** Poll a node's hbctl status until `ok` holds (resource moves take a few protocol rounds). */
async function statusWhen(host: Host, what: string, ok: (s: ClusterStatus) => boolean, timeoutMs: number): Promise<ClusterStatus> {
  let last: ClusterStatus | undefined
  try {
    return await waitFor(`${host.hostname}: hbctl status shows ${what}`, async () => {
      last = await statusJson(host)
      return ok(last) ? last : undefined
    }, timeoutMs, 500)
  } catch (err) {
    const seen = last === undefined ? 'no answer' : `rscstatus ${last.rscstatus}, groups ${JSON.stringify(last.groups)}, nodes ${last.nodes.map((n) => `${n.name} ${n.status}`).join(', ')}`
    throw new Error(`${(err as Error).message}; last seen: ${seen}`)
  }
}

/** Every field of one node's status answer checked against what the wire and the files say. */
async function checkAgainstCluster(t: Test, pair: Pair, viewer: 'titanic5' | 'titanic6', s: ClusterStatus, expect: { holder: string; alive: string[]; dead: string[] }): Promise<void> {
  const me = pair.nodes[viewer]
  t.equal(s.localNode, me.name, `${me.name}: localNode`)
  t.same(s.nodes.map((n) => n.name), [T5, T6], `${me.name}: nodes in ha.cf order`)
  const self = node(s, me.name)
  t.equal(self?.local, true, `${me.name}: itself marked local`)
  t.equal(self?.generation, await fileGeneration(me.host), `${me.name}: its own generation = its hb_generation`)
  for (const name of expect.alive) {
    const n = node(s, name)
    const wire = pair.obs.lastStatus(name)
    t.equal(n?.status, 'active', `${me.name} sees ${name} active`)
    t.equal(wire?.f.st, 'active', `… and ${name}'s last status on the wire says active`)
    const peer = name === T5 ? pair.nodes.titanic5 : pair.nodes.titanic6
    t.equal(n?.generation, await fileGeneration(peer.host), `${me.name}: ${name}'s generation = ${name}'s hb_generation`)
    t.equal(n?.generation, Number.parseInt(wire?.f.hg ?? '', 16), `${me.name}: ${name}'s generation = hg on the wire`)
    t.same(n?.links, [{ name: 'eth0', status: 'up' }], `${me.name}: ${name}'s link eth0 up`)
    if (!n?.local) {
      t.ok(n?.lastHeardMsAgo !== null && (n?.lastHeardMsAgo ?? Infinity) < 4000, `${me.name}: heard ${name} within 2 keepalives (${n?.lastHeardMsAgo} ms ago)`)
      t.equal(n?.advertisedDeadtimeMs, Number.parseInt(wire?.f.dt ?? '', 16), `${me.name}: ${name}'s advertised deadtime = dt on the wire`)
    }
  }
  for (const name of expect.dead) {
    const n = node(s, name)
    t.equal(n?.status, 'dead', `${me.name} sees ${name} dead`)
    t.same(n?.links, [{ name: 'eth0', status: 'dead' }], `${me.name}: ${name}'s link eth0 dead`)
  }
  t.equal(s.groups.length, 1, `${me.name}: one group`)
  const g = s.groups[0]
  t.equal(g?.key, VIP, `${me.name}: the group's key is the VIP`)
  t.same(g?.resources, [VIP, 'hbopsstub'], `${me.name}: the group's resources as written`)
  t.equal(g?.preferredNode, T5, `${me.name}: the group's home is titanic5`)
  t.equal(g?.holder, expect.holder, `${me.name}: holder ${expect.holder} (the VIP is on its eth0)`)
  t.equal(g?.state, 'running', `${me.name}: group running`)
  if (expect.holder === me.name) t.ok(g?.lastTransition !== null && (g?.lastTransition?.atMs ?? 0) <= s.generatedAtMs, `${me.name}: last transition recorded (${g?.lastTransition?.what})`)
  t.equal(s.rscstatus, expect.holder === me.name ? (me.name === T5 ? 'local' : 'all') : (me.name === T5 ? 'none' : 'local'), `${me.name}: rscstatus ${s.rscstatus}`)
  t.equal(s.parameters.auto_failback, 'on', `${me.name}: parameters.auto_failback`)
  t.equal(s.realServers, null, `${me.name}: no real servers (no monitor runs)`)
}

async function checkHuman(t: Test, host: Host, holder: string): Promise<void> {
  const r = await hbctl(host, ['status'])
  t.equal(r.exitCode, 0, `${host.hostname}: hbctl status exits 0`)
  const lines = r.stdout.replace(/\n$/, '').split('\n')
  t.comment(`hbctl status on ${host.hostname}:\n${r.stdout}`)
  const wide = lines.filter((l) => l.length > 80)
  t.same(wide, [], `${host.hostname}: all ${lines.length} lines of hbctl status fit 80 columns`)
  t.notMatch(r.stdout, /\x1b\[/, 'no colour on a pipe')
  t.ok(lines.some((l) => l.startsWith(T5) && /\bactive|\bdead/.test(l)), 'titanic5 has a row with its status')
  t.ok(lines.some((l) => l.startsWith(`${VIP} hbopsstub`) && l.includes(holder)), `the group's row names ${holder}`)
}

t.test('hbctl status and hb_standby on a two-node heartbeat-ts cluster', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const pair = await startOpsPair(t, 'hbopsst', { titanic5: 'ts', titanic6: 'ts' })
  const t5 = pair.nodes.titanic5.host
  const t6 = pair.nodes.titanic6.host

  // 1. Both up: titanic5 holds its group.
  await waitForHolder(pair, 'titanic5', 60_000)
  const holdsT5 = (s: ClusterStatus) => s.groups[0]?.holder === T5 && s.rscstatus !== 'transition'
  await checkAgainstCluster(t, pair, 'titanic5', await statusWhen(t5, 'titanic5 holding', holdsT5, 30_000), { holder: T5, alive: [T5, T6], dead: [] })
  await checkAgainstCluster(t, pair, 'titanic6', await statusWhen(t6, 'titanic5 holding', holdsT5, 30_000), { holder: T5, alive: [T5, T6], dead: [] })
  await checkHuman(t, t5, T5)
  await checkHuman(t, t6, T5)
  const genT5Before = await fileGeneration(t5)

  // 2. The holder crashes (cable and every process at once): titanic6 takes the group. The link is
  // declared dead a little after the node when the last packet (an ack) followed the last status.
  await t5.linkDown()
  await t5.killAll('SIGKILL')
  await waitFor('titanic6 to carry the VIP', async () => ((await hasVip(t6)) ? true : undefined), 30_000, 300)
  const after = await statusWhen(t6, 'titanic5 dead and titanic6 holding', (s) => node(s, T5)?.status === 'dead' && node(s, T5)?.links[0]?.status === 'dead' && s.groups[0]?.holder === T6 && s.rscstatus !== 'transition', 30_000)
  await checkAgainstCluster(t, pair, 'titanic6', after, { holder: T6, alive: [T6], dead: [T5] })
  t.equal(node(after, T5)?.generation, genT5Before, "titanic6 still reports titanic5's last generation")
  await checkHuman(t, t6, T6)

  // 3. titanic5 "reboots" (its VIP and /run gone) and returns: auto_failback on gives it the group back.
  await t5.exec(['ip', 'addr', 'del', `${VIP}/26`, 'dev', 'eth0'])
  await t5.exec(['rm', '-f', '/run/hbopsstub.on'])
  await t5.linkUp()
  await startNode(pair.nodes.titanic5)
  await waitBothActive(pair, 40_000)
  await waitForHolder(pair, 'titanic5', 60_000)
  const back = await statusWhen(t6, 'titanic5 back and holding', holdsT5, 30_000)
  t.ok((node(back, T5)?.generation ?? 0) > genT5Before, `titanic5 came back with a higher generation (${genT5Before} -> ${node(back, T5)?.generation})`)
  await checkAgainstCluster(t, pair, 'titanic6', back, { holder: T5, alive: [T5, T6], dead: [] })
  await checkAgainstCluster(t, pair, 'titanic5', await statusWhen(t5, 'titanic5 holding', holdsT5, 30_000), { holder: T5, alive: [T5, T6], dead: [] })

  // 4. The Debian hb_standby on titanic5, writing into heartbeat-ts's FIFO, moves the group to titanic6.
  const r = await t5.exec(['/usr/share/heartbeat/hb_standby'], { env: { HA_FIFO: '/var/lib/heartbeat/fifo' } })
  t.equal(r.exitCode, 0, `hb_standby exits 0 ${r.stderr.trim()}`)
  await waitForHolder(pair, 'titanic6', 60_000)
  t.pass('after hb_standby on titanic5 the VIP and the stub run on titanic6 only')
  // The holder's own view is authoritative; titanic5 must at least no longer claim the group.
  const moved = await statusWhen(t6, 'titanic6 holding all', (s) => s.groups[0]?.holder === T6 && s.rscstatus === 'all', 30_000)
  t.equal(moved.groups[0]?.state, 'running', 'titanic6 reports the group running here')
  const gone = await statusWhen(t5, 'titanic5 holding nothing', (s) => s.groups[0]?.holder !== T5 && s.rscstatus === 'none', 30_000)
  t.comment(`titanic5 now names ${gone.groups[0]?.holder ?? 'nobody'} as the holder`)
  t.match(pair.nodes.titanic5.ts?.text() ?? '', /titanic5\.etri\.re\.kr wants to go standby \[all\]/, 'titanic5 acted on its own FIFO message (ask_resources info=me)')
  t.notMatch(pair.nodes.titanic5.ts?.text() ?? '', /FIFO .*(dropped|ignored)/, 'no FIFO problems logged')

  // 5. The same through the control socket: reload (nothing changed) and takeover bring the group home.
  const reload = await hbctl(t5, ['reload'])
  t.same([reload.exitCode, reload.stdout], [0, 'Configuration unchanged.'], 'hbctl reload: unchanged configuration, exit 0')
  const take = await hbctl(t5, ['takeover'])
  t.same([take.exitCode, take.stdout], [0, 'Takeover [all] requested from the peer.'], 'hbctl takeover: accepted')
  await waitForHolder(pair, 'titanic5', 60_000)
  t.pass('after hbctl takeover on titanic5 the VIP and the stub run on titanic5 only')
  await statusWhen(t6, 'titanic5 holding', holdsT5, 30_000)
  t.pass('titanic6 reports titanic5 as the holder')
})
