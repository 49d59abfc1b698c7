// The seed's mon.cf, unchanged, keeps a (stand-in) LVS table true: three real servers at the seed's addresses in namespaces.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createKit, distFile, gate, netnsAvailability, waitFor } from '../netns/kit.js'
import type { Host, Proc } from '../netns/kit.js'
import { parseMonState } from '../../lib/monitor/mon-state.js'
import { descendants } from '../../lib/io/process-tree.js'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const PREFIX = 'hbmonns'
const VIP = '129.254.203.149:80'
const REALS = ['129.254.203.146', '129.254.203.147', '129.254.203.148']
const INTERVAL_S = 5 // the seed's `interval 5s`
const HTTP_TIMEOUT_S = 30 // http.monitor's default -t (the seed gives none)

const httpServer = `require('node:http').createServer((q, s) => s.end('ok ' + process.argv[1])).listen(80, '0.0.0.0', () => console.log('listening'))`

t.test('seed mon.cf drives the table: all in, one leaves when its HTTP stops, comes back when it starts', async (t) => {
  if (!gate(t, await netnsAvailability())) return
  const hbMon = await distFile('lib/cli/hb-mon.js')
  await distFile('test/support/ipvsadm-standin.js')
  const ipvsadm = fileURLToPath(new URL('../bin/ipvsadm', import.meta.url))
  const seedCf = fileURLToPath(new URL('../../ha.d-example/titanic5/mon/mon.cf', import.meta.url))

  const kit = await createKit(PREFIX)
  t.teardown(() => kit.destroy())
  const director = await kit.addHost({ name: 'dir', address: '129.254.203.145/26' })
  const reals: Host[] = []
  for (const [i, addr] of REALS.entries()) reals.push(await kit.addHost({ name: `rs${i + 1}`, address: `${addr}/26` }))
  const servers: Array<Proc | undefined> = []
  const startHttp = async (i: number): Promise<void> => {
    const p = reals[i]!.spawn([process.execPath, '-e', httpServer, REALS[i]!])
    await p.waitForLine(/^listening$/, 20_000)
    servers[i] = p
  }
  for (let i = 0; i < reals.length; i++) await startHttp(i)

  const env = { IPVSADM_STANDIN_STATE: join(director.root, 'ipvs.json'), IPVSADM_STANDIN_LOCAL: '129.254.203.145' }
  const ipvs = async (args: string[]) => director.exec([ipvsadm, ...args], { env: { ...process.env, ...env } })
  // As the lvs agent leaves it, except that .147 is missing (removed before a monitor restart).
  for (const line of [`-A -t ${VIP} -s rr`, `-a -t ${VIP} -r ${REALS[0]} -g`, `-a -t ${VIP} -r ${REALS[2]} -g`]) {
    const r = await ipvs(line.split(' '))
    t.equal(r.exitCode, 0, `ipvsadm ${line}`)
  }
  const reals_in_table = async (): Promise<string[]> => {
    const r = await ipvs(['-S', '-n'])
    return [...r.stdout.matchAll(/-r (\S+):80 /g)].map((m) => m[1] as string).sort()
  }

  const logFile = join(director.root, 'var', 'log', 'hb-mon.log')
  const stateFile = join(director.root, 'mon-state.json')
  const mon = director.spawn([process.execPath, hbMon, '-c', seedCf, '-P', join(director.root, 'mon.pid'), '--state', stateFile, '--log', logFile], {
    env: { ...process.env, ...env, HBTS_IPVSADM: ipvsadm },
  })
  t.teardown(() => mon.kill('SIGKILL'))

  const warned = await mon.waitForLine(/mon\.cf:20: warning: alert argument "–R"/, 20_000)
  t.pass(`the en-dash line is warned about: ${warned.text}`)

  // randstart 30s: every watch has run once within 30 s, then every 5 s.
  const all = await waitFor('all three real servers in the table', async () => {
    const have = await reals_in_table()
    return have.length === 3 ? have : undefined
  }, 60_000, 500)
  t.same(all, REALS, 'the healthy .147 was put back by the re-assertion after the monitor (re)started')

  // The table is re-asserted before every watch has run once (randstart 30s): wait until each real
  // server has been checked, so the states compared below are results, not "unknown".
  await waitFor('a first check of every real server', async () => {
    const p = parseMonState(await readFile(stateFile, 'utf8').catch(() => ''))
    return p.ok && p.state.realServers.length === 3 && p.state.realServers.every((r) => r.state === 'up') ? true : undefined
  }, 60_000, 250)

  // Stop .147's HTTP: it must leave the table within interval + timeout.
  const stoppedAt = performance.now()
  servers[1]!.kill('SIGKILL')
  await servers[1]!.exited
  await waitFor('.147 to leave the table', async () => ((await reals_in_table()).includes(REALS[1]!) ? undefined : true), (INTERVAL_S + HTTP_TIMEOUT_S + 10) * 1000, 250)
  const leftAfterS = (performance.now() - stoppedAt) / 1000
  t.ok(leftAfterS <= INTERVAL_S + HTTP_TIMEOUT_S + 1, `left the table after ${leftAfterS.toFixed(1)} s (bound ${INTERVAL_S + HTTP_TIMEOUT_S} s)`)
  t.same(await reals_in_table(), [REALS[0], REALS[2]], 'only the dead server left')

  const st = await waitFor('state file shows .147 down', async () => {
    const p = parseMonState(await readFile(stateFile, 'utf8'))
    return p.ok && p.state.realServers.find((r) => r.host === REALS[1])?.state === 'down' ? p.state : undefined
  }, 20_000)
  t.same(st.realServers.map((r) => [r.host, r.state]), [[REALS[0], 'up'], [REALS[1], 'down'], [REALS[2], 'up']])

  // Repeated down alerts while it stays down: recognised as no-ops, no ipvsadm error spam.
  const log = await waitFor('two repeated down alerts for .147', async () => {
    const text = await readFile(logFile, 'utf8')
    const repeats = text.split('\n').filter((l) => l.includes(`${REALS[1]}`) && /already absent|already out of|nothing to do/.test(l))
    return repeats.length >= 2 ? text : undefined
  }, (INTERVAL_S * 3 + HTTP_TIMEOUT_S) * 1000, 500)
  t.notMatch(log, /No such destination/, 'no "No such destination" from repeated down alerts')

  // Start it again: back in the table.
  const restartedAt = performance.now()
  await startHttp(1)
  await waitFor('.147 back in the table', async () => ((await reals_in_table()).includes(REALS[1]!) ? true : undefined), (INTERVAL_S + HTTP_TIMEOUT_S + 10) * 1000, 250)
  t.pass(`back after ${((performance.now() - restartedAt) / 1000).toFixed(1)} s`)
  t.same(await reals_in_table(), REALS)

  // Stop: nothing of the monitor survives in the director.
  const monPid = mon.pid as number
  const children = await descendants(monPid)
  mon.kill('SIGTERM')
  t.equal(await mon.exited, 0, 'hb-mon exits 0 on SIGTERM')
  await waitFor('hb-mon and everything it started to be gone', async () => ([monPid, ...children].every((p) => !alive(p)) ? true : undefined), 10_000)
  t.pass(`no monitor process left (hb-mon and ${children.length} children gone)`)
})
