// Ping nodes and the built-in ipfail in namespaces: both directors ping a router host (ha.cf
// `ping`, `respawn hacluster /usr/lib/heartbeat/ipfail`). Cutting titanic5's path to the router
// (nftables on titanic5) moves the VIP to titanic6 while the client keeps being answered; restoring
// it brings the VIP home (auto_failback on).

import t from 'tap'
import { gate, netnsAvailability, waitFor } from '../netns/kit.js'
import { firstAnswer, hbctl, noHalfVip, retimed, waitOwner, withCluster } from './scenario-helpers.js'

const availability = await netnsAvailability()
const ROUTER = '129.254.203.130'
const EXTRA = ['auto_failback on', `ping ${ROUTER}`, 'deadping 3', 'respawn hacluster /usr/lib/heartbeat/ipfail'].join('\n')

t.test('ipfail: titanic5 loses the router, the VIP moves to titanic6 and back when the path returns', async (tt) => {
  if (!gate(tt, availability)) return
  await withCluster(tt, { prefix: 'sceipfail', realServers: false, haCf: retimed('500ms', '2', EXTRA) }, async (c) => {
    await c.kit.addHost({ name: 'rtr', address: `${ROUTER}/26`, hostname: 'router' })
    const t5 = c.directors.titanic5.host
    await c.start('titanic5')
    await c.start('titanic6')
    await waitOwner(c, 'titanic5', 60_000)

    for (const seed of ['titanic5', 'titanic6'] as const) {
      await waitFor(`${seed} sees the router up`, async () => ((await hbctl(c, seed, 'cl_status', 'nodestatus', ROUTER)).out === 'ping' ? true : undefined), 20_000, 200)
      tt.equal((await hbctl(c, seed, 'cl_status', 'nodetype', ROUTER)).out, 'ping', `${seed}: cl_status nodetype ${ROUTER} is ping`)
      tt.match((await hbctl(c, seed, 'cl_status', 'listnodes', '-p')).out, ROUTER, `${seed}: listnodes -p lists the router`)
      tt.match((await hbctl(c, seed, 'status')).out, new RegExp(`${ROUTER.replaceAll('.', '\\.')}\\s+ping`), `${seed}: hbctl status shows the router as ping`)
    }
    // Let both settle before the cut (ipfail gives up nothing while resources are in transition).
    await waitFor('both settled', async () => {
      for (const seed of ['titanic5', 'titanic6'] as const) if ((await hbctl(c, seed, 'cl_status', 'rscstatus')).out === 'transition') return undefined
      return true
    }, 30_000, 200)

    const prober = await c.startProber(20, 300)
    const cutAt = Date.now()
    const cut = await t5.exec(['sh', '-c', `nft add table inet pingcut && nft add chain inet pingcut out '{ type filter hook output priority 0; }' && nft add rule inet pingcut out ip daddr ${ROUTER} drop`])
    tt.equal(cut.exitCode, 0, `titanic5's path to the router cut: ${cut.stderr}`)
    const movedAt = await waitFor('titanic6 answers for the VIP', async () => firstAnswer(prober, 'titanic6', cutAt), 40_000, 100)
    await waitOwner(c, 'titanic6', 20_000)
    tt.comment(`router cut from titanic5 → VIP answered by titanic6 after ${movedAt - cutAt} ms`)
    await noHalfVip(tt, c, 'titanic6', 'after the cut')
    await new Promise((r) => setTimeout(r, 3000))
    const after = prober.lines.filter((l) => Number(l.text.split(' ')[0]) >= movedAt + 500)
    tt.ok(after.length > 10, `the client is answered after the move (${after.length} answers)`)
    tt.ok(after.every((l) => l.text.split(' ')[1] === 'titanic6'), 'every answer after the move is titanic6')
    tt.equal((await hbctl(c, 'titanic5', 'cl_status', 'nodestatus', ROUTER)).out, 'dead', 'titanic5: the router is dead')
    const t5log = c.directors.titanic5.daemon?.lines.map((l) => l.text).join('\n') ?? ''
    tt.match(t5log, /ipfail: titanic6\.etri\.re\.kr sees more ping nodes than our 0: giving up our resources/, 'titanic5 logs the decision with the count')

    const restoreAt = Date.now()
    tt.equal((await t5.exec(['nft', 'delete', 'table', 'inet', 'pingcut'])).exitCode, 0, 'path restored')
    const homeAt = await waitFor('titanic5 answers again (auto_failback on)', async () => firstAnswer(prober, 'titanic5', restoreAt), 60_000, 100)
    await waitOwner(c, 'titanic5', 20_000)
    tt.comment(`path restored → VIP back on titanic5 after ${homeAt - restoreAt} ms`)
    await noHalfVip(tt, c, 'titanic5', 'after the restore')
    prober.kill('SIGTERM')
    const t6log = c.directors.titanic6.daemon?.lines.map((l) => l.text).join('\n') ?? ''
    tt.match(t6log, /ipfail: 1 ping node\(s\) up here, 1 on titanic5\.etri\.re\.kr: balanced/, 'titanic6 logs the balanced counts')
  })
})
