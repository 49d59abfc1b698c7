// A one-way loss in a mixed pair (found by the mixed soak, seed 20261218): the real 3.0.6 titanic6 runs
// titanic5's group; titanic5 (heartbeat-ts) hears nothing from it for longer than the deadtime,
// declares it dead and takes its group back, while titanic6 heard titanic5 all along and saw no
// partition. 3.0.6 has no rule that makes titanic6 yield (it logs "Both machines own our
// resources!"), so both held the VIP for good. At the heal titanic5 keeps and asks titanic6 for the
// group with 3.0.6's own ip-request, which titanic6's rc.d/ip-request honours.

import t from 'tap'
import { gate, realHeartbeatAvailability, waitFor } from '../netns/kit.js'
import { SEED_ADDRESS, realLog, realNodeStatus } from '../netns/seed-node.js'
import { buildPair, logged, startBoth, statusSeenBy, vipHolders } from './pair-scenario.js'

const DEADTIME_S = 4

/** The seed's ha.cf with fast timers, and auto_failback off so that titanic6 keeps what it takes. */
const HA_CF = [
  'debugfile /var/log/ha-debug',
  'logfile /var/log/ha-log',
  'logfacility local0',
  'keepalive 1',
  `deadtime ${DEADTIME_S}`,
  'warntime 2',
  'initdead 10',
  'udpport 1001',
  'bcast eth0',
  'auto_failback off',
  'node titanic5.etri.re.kr',
  'node titanic6.etri.re.kr',
  '',
].join('\n')

t.test('mixed pair: after a one-way loss the real 3.0.6 node gives up the group heartbeat-ts kept; one holder, never none', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const pair = await buildPair(t, { prefix: 'hbioneway', auth: 'sha1', impl: { titanic5: 'ts', titanic6: 'real' }, haCf: HA_CF })
  const ts = pair.nodes.titanic5
  const real = pair.nodes.titanic6
  await startBoth(pair)
  await waitFor('titanic5 to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic5' ? true : undefined), 40_000, 300)

  // titanic6 asks for the group (3.0.6's hb_takeover: titanic5 runs hb_standby): titanic6 runs it now.
  const takeover = await real.host.exec(['/usr/share/heartbeat/hb_takeover', 'all'], { timeoutMs: 30_000 })
  t.equal(takeover.exitCode, 0, `hb_takeover on the real titanic6 (${takeover.stderr.trim()})`)
  await waitFor('titanic6 alone to hold the VIP', async () => ((await vipHolders(pair)).join() === 'titanic6' ? true : undefined), 40_000, 300)
  await new Promise((r) => setTimeout(r, 3000))

  // Everything titanic6 sends is lost on its way into titanic5; titanic5's packets still reach titanic6.
  const t6Address = SEED_ADDRESS.titanic6.split('/')[0] ?? ''
  const rules = await ts.host.exec(['sh', '-c', `nft add table inet oneway && nft add chain inet oneway in '{ type filter hook input priority 0; }' && nft add rule inet oneway in ip saddr ${t6Address} udp dport 1001 drop`])
  t.equal(rules.exitCode, 0, `the one-way loss is in place on titanic5 (${rules.stderr.trim()})`)
  const fromLine = ts.ts?.proc.lines.length ?? 0
  await ts.ts?.proc.waitForLine(/node titanic6\.etri\.re\.kr: is dead/, DEADTIME_S * 1000 + 15_000, fromLine)
  await waitFor('both to hold the VIP', async () => ((await vipHolders(pair)).length === 2 ? true : undefined), 20_000, 200)
  t.pass('titanic5 declared titanic6 dead and took its group back; titanic6, hearing titanic5 all along, kept it')

  t.equal((await ts.host.exec(['nft', 'delete', 'table', 'inet', 'oneway'])).exitCode, 0, 'the loss ends')
  const healedAt = Date.now()
  let noneSeen = 0
  const single = await waitFor(
    'one holder of the VIP',
    async () => {
      const holders = await vipHolders(pair)
      if (holders.length === 0) noneSeen++
      return holders.length === 1 ? holders : undefined
    },
    30_000,
    200,
  )
  t.same(single, ['titanic5'], `titanic5 alone holds the VIP ${Date.now() - healedAt} ms after the loss ended (before the fix: both, for good)`)
  await new Promise((r) => setTimeout(r, 5000))
  t.same(await vipHolders(pair), ['titanic5'], 'and still 5 s later')
  t.equal(noneSeen, 0, 'no look found the VIP on neither node')
  t.ok(logged(ts, /titanic6\.etri\.re\.kr gave up 129\.254\.203\.149, which it still ran after the heal/, fromLine).length === 1, 'titanic5 says titanic6 gave the group up at its ip-request')
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'the real node sees heartbeat-ts active')
  t.equal(await statusSeenBy(ts, real.name), 'active', 'heartbeat-ts sees the real node active')
  t.comment((await realLog(real.host)).split('\n').filter((l) => /ip-request|Both machines|giving up|Releasing/i.test(l)).slice(-8).join('\n'))
})
