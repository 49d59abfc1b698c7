// The seed cluster end to end in namespaces (issue 4 "Must show"): VIP on titanic5 eth0:0 with titanic6
// silent on lo:0, crash failover with the client's ARP entry moving, failback, the lvs table, mixed pairs,
// cold starts with fast timers, standby/takeover, a failing and a hanging resource.

import t, { type Test } from 'tap'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gate, netnsAvailability, realHeartbeatAvailability, waitFor, type Proc } from '../netns/kit.js'
import type { SeedNode } from '../netns/seed-node.js'
import { buildSeedCluster, seedScriptTable, VIP, type SeedCluster, type SeedClusterOptions } from './seed-cluster.js'

const availability = await netnsAvailability()

/** The first prober line at or after `fromMs` answered by `node`. */
function firstAnswer(p: Proc, node: string, fromMs: number): number | undefined {
  for (const l of p.lines) {
    const [ms, answer] = l.text.split(' ')
    if (Number(ms) >= fromMs && answer === node) return Number(ms)
  }
  return undefined
}

async function waitOwner(c: SeedCluster, seed: SeedNode, timeoutMs: number): Promise<void> {
  await waitFor(`${seed} owns ${VIP} alone`, async () => {
    const o = await c.owners()
    return o.length === 1 && o[0] === seed ? true : undefined
  }, timeoutMs, 100)
}

async function withCluster(tt: Test, opts: SeedClusterOptions, body: (c: SeedCluster) => Promise<void>): Promise<void> {
  const c = await buildSeedCluster(opts)
  tt.teardown(() => c.destroy())
  try {
    await body(c)
  } catch (err) {
    for (const seed of ['titanic5', 'titanic6'] as const) {
      const d = c.directors[seed]
      const tail = d.daemon ? d.daemon.lines.slice(-40).map((l) => l.text) : (await c.haLog(seed)).split('\n').slice(-40)
      tt.comment(`--- ${seed} (${d.impl}) last lines ---\n${tail.join('\n')}`)
    }
    throw err
  }
}

t.test('seed cluster: titanic5 serves, titanic6 silent on lo:0; crash, failback, lvs table', async (tt) => {
  if (!gate(tt, availability)) return
  await withCluster(tt, { prefix: 'sceseed' }, async (c) => {
    const t5 = c.directors.titanic5
    const t6 = c.directors.titanic6
    await c.start('titanic5')
    await c.start('titanic6')
    // Seed timers: keepalive 2 s, deadtime 5 s; titanic5 (the preferred node) takes the group.
    await waitOwner(c, 'titanic5', 60_000)
    tt.same(await c.vipLabels('titanic5'), ['eth0:0'], 'the VIP is on titanic5 eth0:0')
    tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'titanic6 keeps the VIP on lo:0 (real server 1)')
    const expected = await seedScriptTable(join(tmpdir(), `sceseed-table-${process.pid}.json`))
    await waitFor('lvs table on titanic5', async () => ((await c.ipvsSave('titanic5')) === expected ? true : undefined), 20_000, 200)
    tt.equal(await c.ipvsSave('titanic5'), expected, "titanic5's lvs table equals the seed script's (ipvsadm -S -n)")
    tt.equal(await c.ipvsSave('titanic6'), '', 'titanic6 has no lvs table while it is a real server')
    tt.equal(await c.httpGet(), 'titanic5', "the client's HTTP request to the VIP reaches titanic5")
    const macs = await c.arpingMacs(3)
    tt.ok(macs.length >= 1, `arping from the client got ${macs.length} replies`)
    tt.same([...new Set(macs)], [t5.mac], `every ARP reply for the VIP comes from titanic5's MAC ${t5.mac}, none from titanic6's ${t6.mac}`)
    tt.equal(await c.clientNeighMac(), t5.mac, "the client's ARP entry for the VIP is titanic5's MAC")

    // Crash titanic5: SIGKILL and cable pulled.
    const prober = await c.startProber(20, 200)
    const crashAt = await c.crash('titanic5')
    const answeredAt = await waitFor('titanic6 answers on the VIP', async () => firstAnswer(prober, 'titanic6', crashAt), 30_000, 50)
    const deadtimeMs = 5000
    tt.comment(`crash → first HTTP answer from titanic6: ${answeredAt - crashAt} ms (deadtime ${deadtimeMs} ms)`)
    tt.ok(answeredAt - crashAt >= deadtimeMs - 2000, `titanic6 waited for the deadtime before taking over (${answeredAt - crashAt} ms)`)
    tt.same(await c.vipLabels('titanic6'), ['eth0:0'], 'titanic6 dropped lo:0 and raised eth0:0')
    await waitFor("client's ARP entry moves to titanic6", async () => ((await c.clientNeighMac()) === t6.mac ? true : undefined), 10_000, 100)
    tt.equal(await c.clientNeighMac(), t6.mac, "the client's ARP entry for the VIP moved to titanic6's MAC")
    tt.equal(await c.httpGet(), 'titanic6', 'HTTP on the VIP is answered by titanic6')
    await waitFor('lvs table on titanic6', async () => ((await c.ipvsSave('titanic6')) === expected ? true : undefined), 20_000, 200)
    tt.equal(await c.ipvsSave('titanic6'), expected, "the lvs table titanic6 built on takeover equals the seed script's")
    prober.kill('SIGTERM')

    // titanic5 comes back. The seed's ha.cf has no auto_failback: legacy, i.e. the VIP fails back.
    await c.reboot('titanic5')
    const backProber = await c.startProber(20, 200)
    const rebootAt = Date.now()
    await c.start('titanic5')
    await waitOwner(c, 'titanic5', 60_000)
    const backAt = await waitFor('titanic5 answers again', async () => firstAnswer(backProber, 'titanic5', rebootAt), 30_000, 50)
    tt.comment(`titanic5 start → VIP answered by titanic5 again: ${backAt - rebootAt} ms`)
    backProber.kill('SIGTERM')
    tt.same(await c.vipLabels('titanic5'), ['eth0:0'], 'legacy auto_failback: the VIP failed back to titanic5 eth0:0')
    tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'titanic6 gave the VIP back and holds it on lo:0 again')
    tt.equal(await c.ipvsSave('titanic6'), '', "titanic6's lvs table is empty after release")
    const after = await c.arpingMacs(3)
    tt.same([...new Set(after)], [t5.mac], "after failback every ARP reply is titanic5's again: titanic6 is silent")
    tt.equal(await c.httpGet(), 'titanic5', 'HTTP on the VIP is answered by titanic5 after failback')

    // Graceful stop of titanic6 keeps its real-server role: the VIP stays on lo:0.
    await c.stop('titanic6')
    tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'after titanic6 stops, the VIP is still on its lo:0')
  })
})
