// The address-first release's tail on real processes: titanic5 hands the VIP over with hbctl standby,
// its lvs stop then hangs in ipvsadm (a stuck kernel lock), and titanic6 crashes. titanic5 must cancel
// the hung call and take the VIP back after deadtime, not after the call's 60 s timeout.

import t from 'tap'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { gate, netnsAvailability, repoRoot, waitFor } from '../netns/kit.js'
import { VIP } from './seed-cluster.js'
import { hbctl, retimed, waitOwner, withCluster } from './scenario-helpers.js'

const availability = await netnsAvailability()
// test/soak/bin/ipvsadm hangs while this file exists in the node's /run.
const HANG_FLAG = 'run/soak-ipvsadm-hang'

t.test("hbctl standby, titanic5's lvs stop hangs in ipvsadm, titanic6 crashes: titanic5 cancels the call and serves the VIP again", async (tt) => {
  if (!gate(tt, availability)) return
  await withCluster(
    tt,
    {
      prefix: 'sctail',
      realServers: false,
      haCf: retimed('500ms', '2', 'auto_failback on'),
      // Only the daemons' built-in lvs goes through the hanging wrapper; the test's own ipvsadm -S does not.
      env: { HBTS_IPVSADM: join(repoRoot, 'test', 'soak', 'bin', 'ipvsadm') },
    },
    async (c) => {
      await c.start('titanic5')
      await c.start('titanic6')
      await waitOwner(c, 'titanic5', 60_000)
      const t5 = c.directors.titanic5
      const daemon = t5.daemon
      if (daemon === undefined) throw new Error('no titanic5 daemon')
      await waitFor('titanic5 settled', async () => ((await hbctl(c, 'titanic5', 'cl_status', 'rscstatus')).out === 'transition' ? undefined : true), 30_000, 200)
      await t5.host.writeFile(HANG_FLAG, '')
      try {
        const r = await hbctl(c, 'titanic5', 'standby')
        tt.equal(r.exitCode, 0, `hbctl standby accepted: ${r.out}`)
        await waitOwner(c, 'titanic6', 20_000)
        const from = daemon.lines.length
        await daemon.waitForLine(/Service addresses released/, 10_000)
        tt.pass("titanic6 holds the VIP while titanic5's lvs stop hangs")
        const crashAt = await c.crash('titanic6')
        await daemon.waitForLine(/Cancelling the still running stop of lvs/, 20_000)
        tt.ok(daemon.lines.slice(from).some((l) => /Cancelling the still running stop of lvs/.test(l.text)), 'titanic5 cancelled the hung lvs stop')
        tt.comment(`cancelled ${Date.now() - crashAt} ms after the crash`)
      } finally {
        await rm(join(t5.host.root, HANG_FLAG), { force: true })
      }
      // deadtime 2 s, then the takeover: far inside the hung call's 60 s timeout.
      await waitFor('titanic5 serves the VIP again', async () => ((await c.vipLabels('titanic5')).includes('eth0:0') ? true : undefined), 20_000, 100)
      const left = await t5.host.exec(['pgrep', '-f', 'soak/bin/ipvsadm'])
      tt.equal(left.stdout.trim(), '', 'no hung ipvsadm is left on titanic5')
      await waitFor('titanic5 runs lvs again', async () => ((await c.ipvsSave('titanic5')).includes('-A -t') ? true : undefined), 20_000, 200)
      tt.match(await c.ipvsSave('titanic5'), new RegExp(`^-A -t ${VIP.replaceAll('.', '\\.')}:80 `, 'm'), "the takeover's lvs start rebuilt the IPVS table")
    },
  )
})
