// The seed cluster end to end in namespaces (issue 4 "Must show"): VIP on titanic5 eth0:0 with titanic6
// silent on lo:0, crash failover with the client's ARP entry moving, failback, the lvs table, mixed pairs.

import t from 'tap'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gate, netnsAvailability, realHeartbeatAvailability, waitFor } from '../netns/kit.js'
import { seedScriptTable } from './seed-cluster.js'
import { firstAnswer, waitOwner, withCluster } from './scenario-helpers.js'

const availability = await netnsAvailability()

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

const realAvailability = await realHeartbeatAvailability()

for (const [realSeed, tsSeed] of [['titanic5', 'titanic6'], ['titanic6', 'titanic5']] as const) {
  t.test(`mixed pair: ${realSeed} runs heartbeat 3.0.6 with Debian's IPaddr, ${tsSeed} runs heartbeat-ts`, async (tt) => {
    if (!gate(tt, realAvailability)) return
    // Debian's IPaddr (OCF IPaddr through the legacy wrapper) treats a VIP on lo:0 as "already running"
    // unless lvs_support is on; the seed edited the script instead. OCF_RESKEY_lvs_support reaches it
    // through heartbeat's environment, unchanged files.
    await withCluster(tt, { prefix: `scemix${realSeed === 'titanic5' ? 'a' : 'b'}`, impl: { [realSeed]: 'real', [tsSeed]: 'ts' }, env: { OCF_RESKEY_lvs_support: 'true' } }, async (c) => {
      const t5 = c.directors.titanic5
      const t6 = c.directors.titanic6
      await c.start('titanic5')
      await c.start('titanic6')
      await waitOwner(c, 'titanic5', 60_000)
      tt.same(await c.vipLabels('titanic5'), ['eth0:0'], `titanic5 (${t5.impl}) holds the VIP on eth0:0`)
      tt.same(await c.vipLabels('titanic6'), ['lo:0'], `titanic6 (${t6.impl}) keeps it on lo:0`)
      tt.equal(await c.httpGet(), 'titanic5', 'HTTP on the VIP reaches titanic5')
      tt.same([...new Set(await c.arpingMacs(2))], [t5.mac], "only titanic5's MAC answers ARP for the VIP")

      const prober = await c.startProber(20, 200)
      const crashAt = await c.crash('titanic5')
      const answeredAt = await waitFor('titanic6 answers on the VIP', async () => firstAnswer(prober, 'titanic6', crashAt), 40_000, 50)
      prober.kill('SIGTERM')
      tt.comment(`${t6.impl} titanic6 after ${t5.impl} titanic5 crashed: first answer ${answeredAt - crashAt} ms (deadtime 5000 ms)`)
      await waitFor('titanic6 eth0:0', async () => ((await c.vipLabels('titanic6')).includes('eth0:0') ? true : undefined), 10_000, 100)
      const labels = await c.vipLabels('titanic6')
      tt.ok(labels.includes('eth0:0'), `titanic6 raised eth0:0 (${labels.join(', ')})`)
      // Ours moves the address off lo; Debian's IPaddr (lvs_support) adds eth0:0 and leaves lo:0 as it was.
      if (t6.impl === 'ts') tt.same(labels, ['eth0:0'], 'heartbeat-ts took the VIP off lo:0 first')
      await waitFor("client's ARP entry moves to titanic6", async () => ((await c.clientNeighMac()) === t6.mac ? true : undefined), 10_000, 100)
      tt.equal(await c.clientNeighMac(), t6.mac, "the client's ARP entry for the VIP moved to titanic6's MAC")
      tt.equal(await c.httpGet(), 'titanic6', 'HTTP on the VIP is answered by titanic6')
      const expected = await seedScriptTable(join(tmpdir(), `scemix-table-${process.pid}.json`))
      await waitFor('lvs table on titanic6', async () => ((await c.ipvsSave('titanic6')) === expected ? true : undefined), 20_000, 200)
      tt.equal(await c.ipvsSave('titanic6'), expected, "titanic6's lvs table equals the seed script's")

      await c.reboot('titanic5')
      await c.start('titanic5')
      await waitOwner(c, 'titanic5', 60_000)
      await waitFor('titanic6 back to lo:0 only', async () => ((await c.vipLabels('titanic6')).join() === 'lo:0' ? true : undefined), 20_000, 200)
      tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'legacy failback: titanic6 holds the VIP on lo:0 only again')
      tt.equal(await c.ipvsSave('titanic6'), '', "titanic6's lvs table is empty after release")
      tt.same([...new Set(await c.arpingMacs(2))], [t5.mac], 'titanic6 is silent on ARP again')
      tt.equal(await c.httpGet(), 'titanic5', 'HTTP on the VIP reaches titanic5 again')
    })
  })
}

