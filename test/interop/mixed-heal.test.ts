// Heals in a mixed pair where the real 3.0.6 node runs the group heartbeat-ts keeps, and no rule of
// 3.0.6 makes it yield (it logs "Both machines own our resources!"). At the heal heartbeat-ts keeps
// and asks for the group with 3.0.6's own ip-request, which the real node's rc.d/ip-request honours.
// (1) A one-way loss (found by the mixed soak, seed 20261218): titanic6 runs titanic5's group;
//     titanic5 hears nothing from it for longer than the deadtime, declares it dead and takes its
//     group back, while titanic6 heard titanic5 all along and saw no partition.
// (2) titanic6 restarts inside a partition and takes everything alone (its new life never heard
//     titanic5); heartbeat(8) listed this as needing an operator's hb_standby foreign.

import t from 'tap'
import type * as Tap from 'tap'
import { stat } from 'node:fs/promises'
import { gate, realHeartbeatAvailability, waitFor } from '../netns/kit.js'
import { SEED_ADDRESS, realLog, realNodeStatus, seedFile, type SeedNode } from '../netns/seed-node.js'
import type { Host } from '../netns/kit.js'
import { buildPair, logged, startBoth, startNode, statusSeenBy, vipHolders, type Pair, type PairNode } from './pair-scenario.js'

const DEADTIME_S = 4

/** The seed's ha.cf with fast timers, and auto_failback off so that titanic6 keeps what it takes. */
async function haCf(): Promise<string> {
  return (await seedFile('titanic5', 'ha.cf'))
    .replace(/^keepalive .*$/m, 'keepalive 1')
    .replace(/^deadtime .*$/m, `deadtime ${DEADTIME_S}\nwarntime 2\ninitdead 10\nauto_failback off`)
}

/** The pair (titanic5 heartbeat-ts, titanic6 the real 3.0.6) started, titanic5 holding the VIP. */
async function startedPair(t: Tap.Test, prefix: string): Promise<{ pair: Pair; ts: PairNode; real: PairNode }> {
  const pair = await buildPair(t, { prefix, auth: 'sha1', impl: { titanic5: 'ts', titanic6: 'real' }, haCf: await haCf() })
  await startBoth(pair)
  await waitFor('titanic5 to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic5' ? true : undefined), 40_000, 300)
  const ts = pair.nodes.titanic5
  const real = pair.nodes.titanic6
  // Holding the VIP is not yet settled: until each side has heard the other's resources are stable,
  // both 3.0.6 and heartbeat-ts ignore a standby or takeover ("Other side is in flux").
  await waitFor('both nodes to see the other side settled', async () => {
    const realSettled = /remote resource transition completed/.test(await realLog(real.host))
    return realSettled && logged(ts, /remote resource transition completed/).length > 0 ? true : undefined
  }, 40_000, 300)
  return { pair, ts, real }
}

/** `step`, and if it fails, both logs' last lines before its error: a story that did not go as told. */
async function orShowLogs<T>(t: Tap.Test, pair: Pair, step: Promise<T>): Promise<T> {
  try {
    return await step
  } catch (e) {
    t.comment(`heartbeat-ts titanic5:\n${logged(pair.nodes.titanic5, /./).slice(-40).join('\n')}`)
    t.comment(`real titanic6:\n${(await realLog(pair.nodes.titanic6.host)).split('\n').slice(-40).join('\n')}`)
    throw e
  }
}

t.test('mixed pair: after a one-way loss the real 3.0.6 node gives up the group heartbeat-ts kept; one holder, never none', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const { pair, ts, real } = await startedPair(t, 'hbioneway')

  // titanic6 asks for the group (3.0.6's hb_takeover: titanic5 runs hb_standby): titanic6 runs it now.
  const takeover = await real.host.exec(['/usr/share/heartbeat/hb_takeover', 'all'], { timeoutMs: 30_000 })
  t.equal(takeover.exitCode, 0, `hb_takeover on the real titanic6 (${takeover.stderr.trim()})`)
  await orShowLogs(t, pair, waitFor('titanic6 alone to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic6' ? true : undefined), 40_000, 300))
  await new Promise((r) => setTimeout(r, 3000))

  // Everything titanic6 sends is lost on its way into titanic5; titanic5's packets still reach titanic6.
  t.equal(await deafTo(ts.host, 'titanic6'), 0, 'the one-way loss is in place on titanic5')
  const fromLine = ts.ts?.proc.lines.length ?? 0
  await ts.ts?.proc.waitForLine(/node titanic6\.etri\.re\.kr: is dead/, DEADTIME_S * 1000 + 15_000, fromLine)
  await waitFor('both to hold the VIP', async () => ((await vipHolders(pair)).length === 2 ? true : undefined), 20_000, 200)
  t.pass('titanic5 declared titanic6 dead and took its group back; titanic6, hearing titanic5 all along, kept it')

  t.equal(await hearAgain(ts.host), 0, 'the loss ends')
  const healedAt = Date.now()
  const { holders: single, noneSeen } = await oneHolder(t, pair, 30_000)
  t.same(single, ['titanic5'], `titanic5 alone holds the VIP ${Date.now() - healedAt} ms after the loss ended (before the fix: both, for good)`)
  await new Promise((r) => setTimeout(r, 5000))
  t.same(await vipHolders(pair), ['titanic5'], 'and still 5 s later')
  t.equal(noneSeen, 0, 'no look found the VIP on neither node')
  t.ok(logged(ts, /titanic6\.etri\.re\.kr gave up 129\.254\.203\.149, which it still ran after the heal/, fromLine).length === 1, 'titanic5 says titanic6 gave the group up at its ip-request')
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'the real node sees heartbeat-ts active')
  t.equal(await statusSeenBy(ts, real.name), 'active', 'heartbeat-ts sees the real node active')
  t.comment((await realLog(real.host)).split('\n').filter((l) => /ip-request|Both machines|giving up|Releasing/i.test(l)).slice(-8).join('\n'))
})

/** Drop the heartbeats `host` hears from `from` (udp 1001): one side of a loss. */
async function deafTo(host: Host, from: SeedNode): Promise<number> {
  const from4 = SEED_ADDRESS[from].split('/')[0] ?? ''
  return (await host.exec(['sh', '-c', `nft add table inet deaf && nft add chain inet deaf in '{ type filter hook input priority 0; }' && nft add rule inet deaf in ip saddr ${from4} udp dport 1001 drop`])).exitCode
}

async function hearAgain(host: Host): Promise<number> {
  return (await host.exec(['nft', 'delete', 'table', 'inet', 'deaf'])).exitCode
}

/** The pids of `pids` that still exist, zombies included. */
async function stillThere(pids: readonly number[]): Promise<number[]> {
  const out: number[] = []
  for (const pid of pids) if ((await stat(`/proc/${pid}`).catch(() => undefined)) !== undefined) out.push(pid)
  return out
}

/** Wait for one holder, looking every 200 ms; how many looks found none. */
async function oneHolder(t: Tap.Test, pair: Pair, timeoutMs: number): Promise<{ holders: string[]; noneSeen: number }> {
  let noneSeen = 0
  const holders = await orShowLogs(t, pair, waitFor(
    'one holder of the VIP',
    async () => {
      const h = await vipHolders(pair)
      if (h.length === 0) noneSeen++
      return h.length === 1 ? h : undefined
    },
    timeoutMs,
    200,
  ))
  return { holders, noneSeen }
}

t.test('mixed pair: the real 3.0.6 node restarted inside a partition and took the group alone; after the heal it gives it up at heartbeat-ts\'s ip-request', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const { pair, ts, real } = await startedPair(t, 'hbiapart')

  t.same([await deafTo(ts.host, 'titanic6'), await deafTo(real.host, 'titanic5')], [0, 0], 'the partition is in place (each side drops the other\'s heartbeats)')
  const fromLine = ts.ts?.proc.lines.length ?? 0
  await ts.ts?.proc.waitForLine(/node titanic6\.etri\.re\.kr: is dead/, DEADTIME_S * 1000 + 15_000, fromLine)
  // titanic6 reboots inside the partition: its daemon and its copy of the VIP (if it took one) go.
  const killed = await real.host.killAll('SIGKILL')
  // Until init reaps them, the dead daemon's pid still exists (a zombie) and a new one says "already running".
  await waitFor('titanic6\'s killed processes to be reaped', async () => ((await stillThere(killed)).length === 0 ? true : undefined), 20_000, 100)
  const links = JSON.parse((await real.host.exec(['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout || '[]') as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>
  for (const a of links.flatMap((l) => l.addr_info ?? [])) if (a.local === '129.254.203.149') await real.host.exec(['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', 'eth0'])
  await startNode(real)
  await orShowLogs(t, pair, waitFor('the restarted titanic6 to take the VIP alone', async () => ((await vipHolders(pair)).length === 2 ? true : undefined), 60_000, 300))
  t.pass('apart, the restarted real titanic6 ran its start-up alone and took titanic5\'s group; titanic5 kept it too')

  t.same([await hearAgain(ts.host), await hearAgain(real.host)], [0, 0], 'the partition heals')
  const healedAt = Date.now()
  const { holders, noneSeen } = await oneHolder(t, pair, 30_000)
  t.same(holders, ['titanic5'], `titanic5 alone holds the VIP ${Date.now() - healedAt} ms after the heal (before: both, until an operator stepped in)`)
  await new Promise((r) => setTimeout(r, 5000))
  t.same(await vipHolders(pair), ['titanic5'], 'and still 5 s later')
  t.equal(noneSeen, 0, 'no look found the VIP on neither node')
  t.ok(logged(ts, /ran apart from us since our start and is already active|restarted while apart from us/, fromLine).length > 0, 'titanic5 took the restarted titanic6 for a healed partition')
  t.ok(logged(ts, /titanic6\.etri\.re\.kr gave up 129\.254\.203\.149, which it still ran after the heal/, fromLine).length === 1, 'titanic5 says titanic6 gave the group up at its ip-request')
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'the real node sees heartbeat-ts active')
  t.equal(await statusSeenBy(ts, real.name), 'active', 'heartbeat-ts sees the real node active')
  t.comment((await realLog(real.host)).split('\n').filter((l) => /ip-request|Both machines|Releasing|Acquiring/i.test(l)).slice(-8).join('\n'))
})
