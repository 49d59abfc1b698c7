// Issue 12 point 5 on the seed cluster: with stonith_host in ha.cf, titanic6 resets a crashed titanic5
// through cluster-glue's `stonith` command before it takes the VIP; a reset that fails is retried
// every 5 s and the VIP stays down until one succeeds. The device is cluster-glue's external plugin
// mechanism with a test plugin (test/fixtures/stonith/recorder) bind-mounted over each director's
// /usr/lib/stonith/plugins/external in its private mount namespace; it records every call.

import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gate, netnsAvailability, repoRoot, waitFor } from '../netns/kit.js'
import { hbctl, retimed, waitOwner, withCluster } from './scenario-helpers.js'

const availability = await netnsAvailability()
const T5 = 'titanic5.etri.re.kr'
const T6 = 'titanic6.etri.re.kr'
const RECORD = 'var/log/stonith-calls'
const FAIL = 'run/stonith-fail'
const STONITH_HOST = `stonith_host * external/recorder /${RECORD} /${FAIL} ${T5} ${T6}`

t.test('titanic6 resets crashed titanic5 with cluster-glue before taking the VIP; failed resets are retried, nothing taken meanwhile', async (tt) => {
  if (!gate(tt, availability)) return
  const plugin = await readFile(join(repoRoot, 'test', 'fixtures', 'stonith', 'recorder'), 'utf8')
  await withCluster(tt, { prefix: 'scestonith', realServers: false, titanic6RealServer: false, haCf: retimed('500ms', '2', `auto_failback on\n${STONITH_HOST}`) }, async (c) => {
    const t6 = c.directors.titanic6
    // Both directors have the plugin, as both would have the device's (start-up checks the type).
    for (const d of [c.directors.titanic5, t6]) {
      await d.host.writeFile('stonith-plugins/recorder', plugin, 0o755)
      const m = await d.host.exec(['mount', '--bind', join(d.host.root, 'stonith-plugins'), '/usr/lib/stonith/plugins/external'])
      tt.equal(m.exitCode, 0, `test plugin mounted in ${d.seed}'s namespace: ${m.stderr}`)
    }
    const resets = async (): Promise<string[]> => {
      const text = await t6.host.readFile(RECORD).then((b) => b.toString(), () => '')
      return text.split('\n').filter((l) => l.startsWith('reset '))
    }

    // A crashed titanic5 keeps its addresses (its cable is pulled), so "titanic6 serves" is its eth0:0.
    const t6Serves = (): Promise<true> => waitFor('titanic6 raises the VIP on eth0:0', async () => ((await c.vipLabels('titanic6')).includes('eth0:0') ? true : undefined), 30_000, 100)

    await c.start('titanic5')
    await c.start('titanic6')
    await waitOwner(c, 'titanic5', 60_000)
    tt.same(await resets(), [], 'nobody reset while both are up')

    // 1. The reset succeeds: then, and only then, titanic6 takes the VIP.
    const d6 = t6.daemon
    if (d6 === undefined) throw new Error('no titanic6 daemon')
    await c.crash('titanic5')
    const resetting = await d6.waitForLine(new RegExp(`Resetting node ${T5} with \\[external/recorder\\]`), 20_000)
    const reset = await d6.waitForLine(new RegExp(`node ${T5} now reset\\.`), 30_000)
    const acquired = await d6.waitForLine(new RegExp(`Resources being acquired from ${T5}`), 30_000)
    tt.ok(resetting.atMs <= reset.atMs && reset.atMs <= acquired.atMs, 'reset first, takeover after')
    tt.same(await resets(), [`reset ${T5} hostlist=${T5} ${T6}`], "cluster-glue ran the plugin's reset once, for titanic5, with ha.cf's parameters")
    await t6Serves()
    tt.equal(await c.httpGet(), 'titanic6', 'HTTP on the VIP is answered by titanic6')

    // titanic5 back; auto_failback on hands it the VIP again.
    await c.reboot('titanic5')
    const back = d6.lines.length
    await c.start('titanic5')
    await waitOwner(c, 'titanic5', 60_000)
    // Crash it only once the failback is over and titanic5 says it holds the group (else it "gave up resources").
    await d6.waitForLine(/Other node completed standby takeover/, 60_000, back)
    await waitFor('both nodes settled', async () => {
      for (const seed of ['titanic5', 'titanic6'] as const) {
        const r = await hbctl(c, seed, 'cl_status', 'rscstatus')
        if (r.exitCode !== 0 || r.out === 'transition') return undefined
      }
      return true
    }, 30_000, 200)

    // 2. The device fails: retried every 5 s, the VIP stays down until a reset succeeds.
    await t6.host.writeFile(FAIL, '')
    const before = (await resets()).length
    const from = d6.lines.length
    await c.crash('titanic5')
    const retrying = new RegExp(`STONITH of ${T5} failed\\.  Retrying\\.\\.\\.`)
    await waitFor('two failed resets', async () => (d6.lines.slice(from).filter((l) => retrying.test(l.text)).length >= 2 ? true : undefined), 40_000, 200)
    tt.ok(d6.lines.slice(from).some((l) => l.text.includes(`Host ${T5} not reset!`)), "3.0.6's words for the failed reset")
    const tries = (await resets()).length - before
    tt.ok(tries >= 2, `the failed reset was tried again (${tries} tries)`)
    tt.same(await c.vipLabels('titanic6'), [], 'titanic6 has not raised the VIP while the resets fail')
    tt.equal(await c.httpGet(), undefined, 'nobody answers on the VIP')
    tt.notOk(d6.lines.slice(from).some((l) => /Resources being acquired/.test(l.text)), 'titanic6 took nothing')
    const firsts = d6.lines.slice(from).filter((l) => /Resetting node/.test(l.text)).map((l) => l.atMs)
    tt.ok(firsts.length >= 2 && firsts[1]! - firsts[0]! >= 5000, `retries are at least 5 s apart (${firsts.slice(0, 2).join(', ')})`)

    await t6.host.exec(['rm', '-f', `/${FAIL}`])
    await d6.waitForLine(new RegExp(`node ${T5} now reset\\.`), 30_000, from)
    await t6Serves()
    tt.equal(await c.httpGet(), 'titanic6', 'once a reset succeeded titanic6 serves the VIP')
  })
})
