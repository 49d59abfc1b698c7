// Mixed pair with a ping node: heartbeat-ts as titanic5 and the real 3.0.6 as titanic6, both with the
// same `ping` line (the observer host answers the echo requests); heartbeat-ts also runs the built-in
// ipfail, whose messages the real node (no ipfail: Debian ships none) must take without complaint.
// They stay one cluster, and cl_status answers for the ping node as the real one does.

import t from 'tap'
import { gate, realHeartbeatAvailability, waitFor, distFile, type Host, type ExecResult } from '../netns/kit.js'
import { realLog, realNodeStatus, seedFile, type SeedNode } from '../netns/seed-node.js'
import { buildPair, complaints, startNode, waitBothActive } from './pair-scenario.js'

const PING_NODE = '129.254.203.150'

async function ourClStatus(host: Host, args: readonly string[]): Promise<ExecResult> {
  return host.exec([process.execPath, await distFile('lib/cli/cl-status.js'), ...args], { env: { NO_COLOR: '1' }, timeoutMs: 15_000 })
}

for (const tsAs of ['titanic5', 'titanic6'] as const) {
  const realAs: SeedNode = tsAs === 'titanic5' ? 'titanic6' : 'titanic5'
  t.test(`ping node in a mixed pair (heartbeat-ts as ${tsAs}): one cluster, no complaints, cl_status as the real one`, async (t) => {
    if (!gate(t, await realHeartbeatAvailability())) return
    const haCf = `${await seedFile('titanic5', 'ha.cf')}auto_failback on\nping ${PING_NODE}\n`
    const pair = await buildPair(t, { prefix: tsAs === 'titanic5' ? 'hbipinga' : 'hbipingb', auth: 'sha1', impl: { [tsAs]: 'ts', [realAs]: 'real' } as Record<SeedNode, 'ts' | 'real'>, haCf })
    const ts = pair.nodes[tsAs]
    const real = pair.nodes[realAs]
    await ts.host.writeFile('etc/ha.d/ha.cf', `${haCf}respawn hacluster /usr/lib/heartbeat/ipfail\n`)
    // titanic5 first, then titanic6, as the captures did.
    await startNode(pair.nodes.titanic5)
    await new Promise((r) => setTimeout(r, 1500))
    await startNode(pair.nodes.titanic6)
    await waitBothActive(pair, 40_000)
    await waitFor('the real node sees the ping node', async () => ((await realNodeStatus(real.host, PING_NODE)) === 'ping' ? true : undefined), 30_000, 300)
    await waitFor('heartbeat-ts sees the ping node', async () => ((await ourClStatus(ts.host, ['nodestatus', PING_NODE])).stdout.trim() === 'ping' ? true : undefined), 30_000, 300)

    const windowStart = Date.now()
    await new Promise((r) => setTimeout(r, 20_000))
    t.comment(`quiet window ${Math.round((Date.now() - windowStart) / 1000)} s`)
    t.equal(await realNodeStatus(real.host, ts.name), 'active', 'the real node still sees heartbeat-ts active')
    const early = pair.obs.heard.filter((h) => h.f.src === ts.name && Number.parseInt(h.f.seq ?? 'ffff', 16) <= 12)
    t.comment(`heartbeat-ts's first messages: ${early.map((h) => `${h.f.seq} ${h.f.t}${h.f.dest !== undefined ? ` dest=${h.f.dest}` : ''}`).join('; ')}`)
    const realText = await realLog(real.host)
    // A late echo reply from the ping node is the real node's own ICMP timing under load, not about our packets.
    const aboutUs = complaints(realText).filter((l) => !l.includes(`Late heartbeat: Node ${PING_NODE}:`))
    t.same(aboutUs, [], 'the real node logged no authentication or format complaints')
    t.notMatch(ts.ts?.text() ?? '', /bad packet on |ERROR:|CRIT:/, 'heartbeat-ts logged no bad packets or errors')
    t.match(ts.ts?.text() ?? '', /ipfail built in: comparing ping nodes with /, 'heartbeat-ts runs ipfail')

    for (const args of [['listnodes'], ['listnodes', '-p'], ['listnodes', '-n'], ['nodetype', PING_NODE], ['nodestatus', PING_NODE], ['listhblinks', PING_NODE], ['nodetype', real.name]]) {
      const theirs = await real.host.clStatus(args)
      const ours = await ourClStatus(ts.host, args)
      const sorted = (s: string): string => (args[0] === 'listnodes' ? s.split('\n').sort().join('\n') : s)
      t.equal(sorted(ours.stdout), sorted(theirs.stdout), `cl_status ${args.join(' ')}: the same answer as the real one (${JSON.stringify(theirs.stdout)})`)
      t.equal(ours.exitCode, theirs.exitCode, `cl_status ${args.join(' ')}: the same exit code`)
    }
    t.comment(`real listnodes, in its order: ${JSON.stringify((await real.host.clStatus(['listnodes'])).stdout)}`)
    t.comment(`our listnodes, in our order: ${JSON.stringify((await ourClStatus(ts.host, ['listnodes'])).stdout)}`)
  })
}
