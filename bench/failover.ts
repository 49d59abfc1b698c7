// Failover bench on the seed cluster in namespaces: crash of the VIP's holder → first HTTP answer from the
// peer, and `hbctl standby` → first answer from the peer; median and worst of several runs. Root only.

import { join } from 'node:path'
import { netnsAvailability, waitFor } from '../test/netns/kit.js'
import type { SeedNode } from '../test/netns/seed-node.js'
import { buildSeedCluster, type SeedCluster } from '../test/cluster-e2e/seed-cluster.js'
import { firstAnswer, hbctl, retimed, waitOwner } from '../test/cluster-e2e/scenario-helpers.js'
import { medianAndWorst } from './ts-pair.js'

const RUNS = Number(process.env.BENCH_FAILOVER_RUNS ?? 5)
const KEEPALIVE = process.env.BENCH_FAILOVER_KEEPALIVE ?? '200ms'
const DEADTIME = process.env.BENCH_FAILOVER_DEADTIME ?? '1'
/** ha.cf(5): a bare number is seconds. */
function toMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v)
  if (!m) return Number.NaN
  return m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000
}

/** 5 s of start-up deadtime + one keepalive-ish margin. */
const STARTUP_DEADTIME_WINDOW_MS = 6000

const other = (s: SeedNode): SeedNode => (s === 'titanic5' ? 'titanic6' : 'titanic5')

async function settled(c: SeedCluster): Promise<void> {
  await waitFor('both nodes settled', async () => {
    for (const seed of ['titanic5', 'titanic6'] as const) {
      const r = await hbctl(c, seed, 'cl_status', 'rscstatus')
      if (r.exitCode !== 0 || r.out === 'transition') return undefined
    }
    return true
  }, 60_000, 200)
  // Each node learns the other's settled state from its next message.
  await new Promise((r) => setTimeout(r, 500))
}

/** Time from `act()` (which returns its start time) to the first HTTP answer on the VIP from `to`. */
async function measure(c: SeedCluster, to: SeedNode, act: () => Promise<number>): Promise<number> {
  const prober = await c.startProber(10, 100)
  try {
    const at = await act()
    const answered = await waitFor(`${to} answers`, async () => firstAnswer(prober, to, at), 60_000, 20)
    return answered - at
  } finally {
    prober.kill('SIGTERM')
  }
}

function line(label: string, xs: readonly number[], note: string): string {
  const { median, worst } = medianAndWorst(xs)
  return `${label.padEnd(36)} median ${String(Math.round(median)).padStart(5)} ms   worst ${String(Math.round(worst)).padStart(5)} ms   (${xs.length} runs: ${xs.map((x) => Math.round(x)).join(', ')})${note}`
}

export async function run(): Promise<void> {
  const a = await netnsAvailability()
  if (!a.ok) {
    process.stdout.write(`failover bench skipped: ${a.reason} (it builds the seed cluster in network namespaces; run as root)\n`)
    return
  }
  const deadtimeMs = toMs(DEADTIME)
  process.stdout.write(`seed cluster in namespaces (heartbeat-ts on titanic5 and titanic6), keepalive ${KEEPALIVE}, deadtime ${DEADTIME} (${deadtimeMs} ms), auto_failback on; HTTP probe every 10 ms\n`)
  const c = await buildSeedCluster({ prefix: 'fobench', realServers: false, haCf: retimed(KEEPALIVE, DEADTIME, 'auto_failback on') })
  const stop = (): void => void c.destroy().finally(() => process.exit(130))
  process.once('SIGINT', stop)
  try {
    await c.start('titanic5')
    await c.start('titanic6')
    await waitOwner(c, 'titanic5', 60_000)
    await settled(c)

    const crash: number[] = []
    for (let i = 0; i < RUNS; i++) {
      crash.push(await measure(c, 'titanic6', () => c.crash('titanic5')))
      await c.reboot('titanic5')
      const startedAt = Date.now()
      await c.start('titanic5')
      // auto_failback on: titanic5 takes its group back once it is up.
      await waitOwner(c, 'titanic5', 60_000)
      await settled(c)
      // A starting node advertises deadtime + 2 s for its first 5 s (3.0.6's add_deadtime at start-up);
      // crash it only once its peer uses the configured deadtime again.
      const wait = startedAt + STARTUP_DEADTIME_WINDOW_MS - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }

    const graceful: number[] = []
    let holder: SeedNode = 'titanic5'
    for (let i = 0; i < RUNS; i++) {
      const from = holder
      graceful.push(
        await measure(c, other(from), async () => {
          const at = Date.now()
          const r = await hbctl(c, from, 'standby')
          if (r.exitCode !== 0) throw new Error(`hbctl standby on ${from}: ${r.out}`)
          return at
        }),
      )
      holder = other(from)
      await waitOwner(c, holder, 30_000)
      await settled(c)
    }
    const overDeadtime = crash.map((x) => x - deadtimeMs)
    process.stdout.write(`${line('crash → VIP answered by the peer', crash, '')}\n`)
    process.stdout.write(`${line('  of which beyond the deadtime', overDeadtime, `; target ≤ 50 ms median`)}\n`)
    process.stdout.write(`${line('hbctl standby → answered by the peer', graceful, '; target ≤ 100 ms')}\n`)
    process.stdout.write(
      'Measured from the SIGKILL (resp. the hbctl command, including its own start-up) to the first HTTP answer\n' +
        `from the peer seen by the client. The lvs resource runs the stand-in ipvsadm (${join('test', 'bin', 'ipvsadm')}, one Node process\n` +
        'per call) because this kernel has no IPVS; a graceful hand-over waits for lvs stop on the old holder.\n',
    )
  } finally {
    process.off('SIGINT', stop)
    await c.destroy()
  }
}
