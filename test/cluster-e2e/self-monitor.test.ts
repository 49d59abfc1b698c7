// Issue 5: titanic6, once the active director, monitors itself as real server 1 (129.254.203.146) like the others.

import t from 'tap'
import { readFile } from 'node:fs/promises'
import { execa } from 'execa'
import { distFile, gate, netnsAvailability, waitFor } from '../netns/kit.js'
import { parseMonState, type MonStateFile } from '../../lib/monitor/mon-state.js'
import { hbctl, waitOwner, withCluster } from './scenario-helpers.js'

const REALS = ['129.254.203.146', '129.254.203.147', '129.254.203.148']
const SELF = '129.254.203.146'
const INTERVAL_S = 5 // the seed mon.cf's `interval 5s`
const BOUND_S = 35 // interval + a generous allowance for http.monitor (a refused connection fails at once)

const availability = await netnsAvailability()

t.test('titanic6 as active director monitors itself as real server 1', async (tt) => {
  if (!gate(tt, availability)) return
  const httpServer = await distFile('lib/demo/http-name-server.js')
  await withCluster(tt, { prefix: 'sceself', titanic6RealServer: true, realServers: true }, async (c) => {
    const t6 = c.directors.titanic6
    const realsInTable = async (): Promise<string[]> =>
      [...(await c.ipvsSave('titanic6')).matchAll(/-r (\S+):80 /g)].map((m) => m[1] as string).sort()
    const monState = async (): Promise<MonStateFile | undefined> => {
      try {
        const p = parseMonState((await t6.host.readFile('run/heartbeat-ts/mon-state.json')).toString('utf8'))
        return p.ok ? p.state : undefined
      } catch {
        return undefined
      }
    }
    const selfState = async (): Promise<{ state: string; lastCheck?: string } | undefined> => (await monState())?.realServers.find((r) => r.host === SELF)

    await c.start('titanic5')
    await c.start('titanic6')
    await waitOwner(c, 'titanic5', 60_000)
    await c.crash('titanic5')
    // The crashed titanic5 keeps its (unreachable) eth0:0, so owners() would list both: look at titanic6 alone.
    await waitFor('titanic6 takes the VIP onto eth0:0', async () => ((await c.vipLabels('titanic6')).includes('eth0:0') ? true : undefined), 30_000, 100).catch(async (err: unknown) => {
      tt.comment(`--- titanic6 ha-log ---\n${(await c.haLog('titanic6')).split('\n').slice(-40).join('\n')}`)
      throw err
    })
    tt.same(await c.vipLabels('titanic6'), ['eth0:0'], 'titanic6 took the VIP onto eth0:0 (off lo:0)')

    const all = await waitFor('all three real servers in titanic6 table', async () => {
      const have = await realsInTable()
      return have.length === 3 ? have : undefined
    }, 20_000, 200)
    tt.same(all, REALS, "titanic6's table lists all three real servers, its own .146 included")

    // randstart 30s: wait for every watch's first check before stopping anything, so the bound below is interval + timeout.
    const firstAll = await waitFor('a first check of each real server that found it up', async () => {
      const s = await monState()
      return s !== undefined && REALS.every((h) => s.realServers.some((r) => r.host === h && r.state === 'up' && r.lastCheck !== undefined)) ? s : undefined
    }, 45_000, 250)
    const firstUp = firstAll.realServers.find((r) => r.host === SELF)
    tt.same(firstAll.realServers.map((r) => [r.host, r.state]), REALS.map((h) => [h, 'up']), 'titanic6 checks all three, itself (.146) like the others')
    tt.pass(`titanic6 checked itself: .146 up at ${firstUp?.lastCheck}`)

    // Stop titanic6's own httpd (the real-server role), and only that process.
    const pids = (await execa('ip', ['netns', 'pids', t6.host.ns], { reject: false, timeout: 10_000 })).stdout.split('\n').map(Number).filter((n) => n > 0)
    const httpd: number[] = []
    for (const pid of pids) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
      if (cmd.includes('http-name-server.js')) httpd.push(pid)
    }
    tt.equal(httpd.length, 1, "found titanic6's own httpd")
    const stoppedAt = performance.now()
    for (const pid of httpd) process.kill(pid, 'SIGKILL')
    await waitFor('.146 to leave titanic6 table', async () => ((await realsInTable()).includes(SELF) ? undefined : true), (BOUND_S + 10) * 1000, 250)
    const leftS = (performance.now() - stoppedAt) / 1000
    tt.ok(leftS <= BOUND_S, `.146 left titanic6's table ${leftS.toFixed(1)} s after its httpd stopped (bound ${BOUND_S} s, interval ${INTERVAL_S} s)`)
    tt.same(await realsInTable(), [REALS[1], REALS[2]], '.147 and .148 stay in the table')
    const down = await waitFor('state file shows .146 down', async () => {
      const s = await monState()
      return s?.realServers.find((r) => r.host === SELF)?.state === 'down' ? s : undefined
    }, 20_000, 250)
    tt.same(down.realServers.map((r) => [r.host, r.state]), [[REALS[0], 'down'], [REALS[1], 'up'], [REALS[2], 'up']], "the monitor's state: .146 down, the others up")

    // Issue 12.7: where admins look. hb-mon's lines are in the director's ha.cf logfile (/var/log/ha-log), as hb-mon.
    const hbMonLine = (re: RegExp) => async (): Promise<string | undefined> => (await c.haLog('titanic6')).split('\n').find((l) => / hb-mon: \[\d+\]: /.test(l) && re.test(l))
    const enDash = await waitFor('the en-dash warning in ha-log', hbMonLine(/WARN: \S*mon\.cf:20: alert argument "\S+R" starts with an en-dash/), 10_000, 250)
    tt.pass(`ha-log: ${enDash}`)
    const downLine = await waitFor('the down line in ha-log', hbMonLine(/WARN: realNode-1\/http: down: 129\.254\.203\.146 \(/), 10_000, 250)
    tt.pass(`ha-log: ${downLine}`)
    const alertLine = await waitFor('the alert run in ha-log', hbMonLine(/info: alert lvs\.alert for realNode-1\/http: lvs\.alert: \S*ipvsadm -d -t 129\.254\.203\.149:80 -r 129\.254\.203\.146/), 10_000, 250)
    tt.pass(`ha-log: ${alertLine}`)

    // Start it again: .146 comes back.
    const p = t6.host.spawn([process.execPath, httpServer, 'titanic6', '80'])
    await p.waitForLine(/^listening$/, 15_000)
    const restartedAt = performance.now()
    await waitFor('.146 back in titanic6 table', async () => ((await realsInTable()).includes(SELF) ? true : undefined), (BOUND_S + 10) * 1000, 250)
    const backS = (performance.now() - restartedAt) / 1000
    tt.ok(backS <= BOUND_S, `.146 back in titanic6's table ${backS.toFixed(1)} s after its httpd restarted`)
    tt.same(await realsInTable(), REALS, 'all three real servers in the table again')
    const up = await waitFor('state file shows .146 up again', async () => {
      const s = await selfState()
      return s?.state === 'up' && s.lastCheck !== undefined && s.lastCheck !== firstUp?.lastCheck ? s : undefined
    }, 20_000, 250)
    tt.pass(`the state file has .146's new check: ${up.state} at ${up.lastCheck}`)
    const upLine = await waitFor('the up line in ha-log', hbMonLine(/info: realNode-1\/http: up: 129\.254\.203\.146 \(again\)/), 10_000, 250)
    tt.pass(`ha-log: ${upLine}`)

    const st = await hbctl(c, 'titanic6', 'status', '--json')
    tt.equal(st.exitCode, 0, 'hbctl status --json on titanic6')
    const parsed = JSON.parse(st.out) as { realServers?: Array<{ address: string; state: string; lastCheck: { ok: boolean } | null }> | null }
    const self = parsed.realServers?.find((r) => r.address === SELF)
    tt.equal(self?.state, 'up', 'hbctl status shows real server .146 up')
    tt.equal(self?.lastCheck?.ok, true, "hbctl status shows .146's last check passed")
  })
})
