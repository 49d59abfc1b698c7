// The rolling migration of issue 14, measured: the seed cluster starts on the real heartbeat 3.0.6 on both
// directors, a client asks the VIP every 10 ms, and the README's procedure moves titanic6, then titanic5, to
// heartbeat-ts and back again, with the admin's own commands (init scripts, hb_standby, hbctl, cl_status).
// After every step the views must agree (hbctl status, cl_status on each node, the VIP's addresses, the
// LVS table, who answers the client); the client's failed requests and longest gap are kept per action.

import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot, waitFor, type ExecResult, type Proc } from '../netns/kit.js'
import { SEED_NODENAME, type SeedNode } from '../netns/seed-node.js'
import { bootRealServerRole, buildSeedCluster, DIRECTORS, VIP, type Impl, type SeedCluster } from './seed-cluster.js'
import type { ClusterStatus } from '../../lib/control/cluster-status.js'

export interface MigrationOptions {
  /** Kit prefix (2-11 lowercase letters/digits). */
  prefix: string
  /** Progress lines: every command, every view, as it happens. */
  note?: (text: string) => void
  /** Called once the cluster exists, so a test can register its teardown before anything can fail. */
  onCluster?: (c: SeedCluster) => void
}

/** One admin action and what the client saw while it ran. */
export interface ActionReport {
  step: number
  name: string
  startMs: number
  endMs: number
  /** A planned switchover (its failures are expected); else nothing may fail. */
  switchover?: { from: SeedNode; to: SeedNode; impls: string; baseline: boolean }
  requests: number
  failed: number
  /** Longest time without a good answer, from the last good answer before the action to the last one in it. */
  longestGapMs: number
  /** From the command to the first answer by the new holder (switchovers only). */
  handOverMs?: number
  answeredBy: Record<string, number>
}

export interface MigrationResult {
  actions: ActionReport[]
  /** Failed client requests outside the planned switchovers. */
  unplannedFailures: number
  /** Each of them: seconds into the run, the prober's error, and the progress line before it. */
  unplannedDetails: string[]
  /** Views that did not agree at a checkpoint, identity files not kept, commands that failed. */
  violations: string[]
  /** Every checkpoint's views, one line per node and source. */
  checkpoints: string[]
  /** What an admin must know that is not a failure of ours (e.g. what 3.0.6's stop does to titanic6's lo:0), with the log lines. */
  findings: string[]
  /** hb_uuid (hex) and the hb_generation sequence per node, one entry per daemon start. */
  identity: Record<SeedNode, { uuid: string; generations: number[] }>
  logTails: string[]
  /** Wall-clock length of the whole run, cluster set-up and teardown included. */
  elapsedMs: number
}

const TS_CLI = ['heartbeat', 'hbctl', 'cl_status', 'hb-mon'] as const
const CLI_JS: Record<(typeof TS_CLI)[number], string> = { heartbeat: 'heartbeat.js', hbctl: 'hbctl.js', cl_status: 'cl-status.js', 'hb-mon': 'hb-mon.js' }
/** The Debian package's init script (3.0.6); heartbeat-ts's SysV wrapper is init/heartbeat in the package. */
const DEBIAN_INIT = '/etc/init.d/heartbeat'
const PROBE_EVERY_MS = 10
/** A request is failed when nothing answers within this; 200 ms (the soak's) also counts CPU starvation on a loaded machine as failures. */
const PROBE_TIMEOUT_MS = 500
/** After the new holder's first answer: stale ARP entries and late errors still belong to the switchover. */
const SWITCHOVER_TAIL_MS = 1000
const CHECKPOINT_TIMEOUT_MS = 40_000
const STEP_TIMEOUT_MS = 60_000
/** haresources' home of the one group: rscstatus `local` there means the VIP, `foreign` on the peer. */
const HOME: SeedNode = 'titanic5'

const peerOf = (s: SeedNode): SeedNode => (s === 'titanic5' ? 'titanic6' : 'titanic5')
const implName = (i: Impl): string => (i === 'ts' ? 'heartbeat-ts' : '3.0.6')
const seedOfName = (name: string | null | undefined): SeedNode | 'nobody' =>
  DIRECTORS.find((s) => SEED_NODENAME[s] === name?.toLowerCase()) ?? 'nobody'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The seed ha.cf plus `auto_failback on`: 3.0.6 refuses hb_standby under the default `legacy`. */
function haCfWithFailback(_node: SeedNode, seedText: string): string {
  return `${seedText.trimEnd()}\n# migration: hb_standby needs nice_failback (3.0.6 refuses standby under auto_failback legacy)\nauto_failback on\n`
}

interface NodeView {
  source: string
  /** nodestatus of titanic5 and titanic6 as this source says. */
  status: Record<SeedNode, string>
  /** Who holds the group as this source says; 'transition' while it moves. */
  holder: SeedNode | 'nobody' | 'transition' | 'not me'
  /** The raw word (cl_status rscstatus, hbctl's group state). */
  word: string
}

/** cl_status rscstatus on `seed`: does it hold the seed's group (home titanic5)? */
function rscHolds(seed: SeedNode, word: string): boolean {
  return word === 'all' || word === (seed === HOME ? 'local' : 'foreign')
}

export async function runMigration(opts: MigrationOptions): Promise<MigrationResult> {
  const t0 = Date.now()
  const say = opts.note ?? (() => undefined)
  /** Progress lines, stamped with seconds since the run began. */
  const timeline: Array<{ ms: number; text: string }> = []
  const note = (text: string): void => {
    timeline.push({ ms: Date.now(), text })
    say(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${text}`)
  }
  const violations: string[] = []
  const checkpoints: string[] = []
  const findings: string[] = []
  const actions: ActionReport[] = []
  const logTails: string[] = []
  const identity: MigrationResult['identity'] = { titanic5: { uuid: '', generations: [] }, titanic6: { uuid: '', generations: [] } }
  const violate = (text: string): void => {
    violations.push(text)
    note(`VIOLATION ${text}`)
  }

  const c = await buildSeedCluster({
    prefix: opts.prefix,
    impl: { titanic5: 'real', titanic6: 'real' },
    haCf: haCfWithFailback,
    // Debian's IPaddr treats a VIP on lo:0 as running unless lvs_support is on (see seed-cluster.test.ts).
    env: { OCF_RESKEY_lvs_support: 'true' },
    note: (l) => note(`  ${l}`),
  })
  opts.onCluster?.(c)
  let prober: Proc | undefined
  let step = 0
  try {
    // `npm install -g` on a node: the package's commands in <prefix>/bin, ahead of /usr/bin on PATH.
    const npmBin = (seed: SeedNode): string => join(c.directors[seed].host.root, 'npm-global', 'bin')
    const installed: Record<SeedNode, boolean> = { titanic5: false, titanic6: false }
    const install = async (seed: SeedNode): Promise<void> => {
      const h = c.directors[seed].host
      for (const cmd of TS_CLI) {
        const js = join(repoRoot, 'dist', 'lib', 'cli', CLI_JS[cmd])
        await h.writeFile(join('npm-global', 'bin', cmd), `#!/bin/sh\nexec '${process.execPath}' '${js}' "$@"\n`, 0o755)
      }
      installed[seed] = true
    }
    const uninstall = async (seed: SeedNode): Promise<void> => {
      await rm(npmBin(seed), { recursive: true, force: true })
      installed[seed] = false
    }
    /** The environment of an admin's shell on the node (root's PATH, plus the npm prefix once installed). */
    const adminEnv = (seed: SeedNode): Record<string, string> => {
      const base = c.envFor(seed)
      const extra: Record<string, string> = installed[seed]
        ? { HEARTBEAT: join(npmBin(seed), 'heartbeat'), HB_MON: join(npmBin(seed), 'hb-mon'), PATH: `${npmBin(seed)}:${base.PATH ?? ''}` }
        : {}
      return { ...base, NO_COLOR: '1', ...extra }
    }
    const admin = async (seed: SeedNode, argv: readonly string[], what = argv.join(' ')): Promise<ExecResult> => {
      const r = await c.directors[seed].host.exec(argv, { env: adminEnv(seed), timeoutMs: STEP_TIMEOUT_MS })
      const out = `${r.stdout}${r.stderr}`.trim().replace(/\n/g, ' | ')
      note(`  [${seed}]# ${what}  → exit ${r.exitCode}${out === '' ? '' : `: ${out}`}`)
      return r
    }
    const mustAdmin = async (seed: SeedNode, argv: readonly string[], what?: string): Promise<ExecResult> => {
      const r = await admin(seed, argv, what)
      if (r.exitCode !== 0) throw new Error(`${seed}: ${what ?? argv.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`)
      return r
    }
    /** `command -v cl_status` in the admin's shell: ours once installed, /usr/bin/cl_status otherwise. */
    const clStatusPath = async (seed: SeedNode): Promise<string> =>
      (await c.directors[seed].host.exec(['sh', '-c', 'command -v cl_status'], { env: adminEnv(seed) })).stdout.trim()

    // --- the daemon on a node, through the init scripts ---
    const initScript = (seed: SeedNode): string => (c.directors[seed].impl === 'ts' ? join(repoRoot, 'init', 'heartbeat') : DEBIAN_INIT)
    const initWords = (seed: SeedNode): string => (c.directors[seed].impl === 'ts' ? 'init/heartbeat (installed as /etc/init.d/heartbeat)' : DEBIAN_INIT)
    /** hb_uuid and hb_generation once the daemon has written a generation other than `before` (it does so after the init script returns). */
    const readIdentity = async (seed: SeedNode, before: number | undefined): Promise<{ uuid: string; generation: number }> => {
      const h = c.directors[seed].host
      return waitFor(`${seed}: a new hb_generation`, async () => {
        const generation = Number((await h.readFile('var/lib/heartbeat/hb_generation')).toString('latin1').trim())
        if (!Number.isInteger(generation) || generation === before) return undefined
        return { uuid: (await h.readFile('var/lib/heartbeat/hb_uuid')).toString('hex'), generation }
      }, 20_000, 100)
    }
    const startDaemon = async (seed: SeedNode): Promise<void> => {
      const id = identity[seed]
      const before = id.generations.at(-1)
      await mustAdmin(seed, [initScript(seed), 'start'], `${initWords(seed)} start`)
      const now = await readIdentity(seed, before)
      if (id.uuid === '') id.uuid = now.uuid
      else if (now.uuid !== id.uuid) violate(`${seed}: hb_uuid changed from ${id.uuid} to ${now.uuid} when ${implName(c.directors[seed].impl)} started`)
      if (before !== undefined && now.generation !== before + 1) violate(`${seed}: hb_generation ${before} → ${now.generation} when ${implName(c.directors[seed].impl)} started (want ${before + 1})`)
      id.generations.push(now.generation)
      note(`  [${seed}] hb_uuid ${now.uuid}, hb_generation ${before ?? '(none)'} → ${now.generation}`)
    }
    const stopDaemon = async (seed: SeedNode): Promise<void> => {
      const logBefore = (await c.haLog(seed)).length
      const labelsBefore = await c.vipLabels(seed)
      await mustAdmin(seed, [initScript(seed), 'stop'], `${initWords(seed)} stop`)
      // `status` says "stopped" once the daemon is gone (heartbeat -s): exit 3, or 1 when a pidfile is left behind.
      const st = await admin(seed, [initScript(seed), 'status'], `${initWords(seed)} status`)
      const pidLeft = await c.directors[seed].host.readFile('run/heartbeat.pid').then((b) => b.toString('latin1').trim(), () => undefined)
      if (!/is stopped/.test(st.stdout) || ![1, 3].includes(st.exitCode)) violate(`${seed}: ${initWords(seed)} status after stop: exit ${st.exitCode}: ${st.stdout.trim()} (want "stopped")`)
      if (st.exitCode === 1) note(`  (exit 1: ${implName(c.directors[seed].impl)} left /var/run/heartbeat.pid behind${pidLeft === undefined ? '' : ` naming pid ${pidLeft}`})`)
      if (c.directors[seed].impl === 'ts' && st.exitCode !== 3) violate(`${seed}: heartbeat-ts status after its stop: exit ${st.exitCode}, want 3 (no pidfile left)`)
      // titanic6 is real server 1: after the stop its VIP must still be on lo:0.
      const labels = await c.vipLabels(seed)
      if (seed === 'titanic6' && labelsBefore.includes('lo:0') && !labels.includes('lo:0')) {
        const said = (await c.haLog(seed)).slice(logBefore).split('\n').filter((l) => /IPaddr|ResourceManager|giv|149/.test(l))
        findings.push([`step ${step}: ${initWords(seed)} stop on titanic6 (${implName(c.directors[seed].impl)}, not holding the VIP) took ${VIP} off lo:0: real server 1 stops serving the VIP. ha-log during the stop:`, ...said].join('\n    | '))
        note(`  FINDING: titanic6's stop (${implName(c.directors[seed].impl)}) took ${VIP} off lo:0; the admin puts it back (ifup lo:0)`)
        await bootRealServerRole(c.directors[seed].host)
        note(`  [${seed}]# ifup lo:0   (ip addr add ${VIP}/32 dev lo label lo:0; arp_ignore=1 arp_announce=2)`)
      }
    }

    // --- the views ---
    const viewsOf = async (seed: SeedNode): Promise<NodeView[]> => {
      const d = c.directors[seed]
      const out: NodeView[] = []
      const cl = await clStatusPath(seed)
      const want = d.impl === 'ts' ? npmBin(seed) : '/usr/bin'
      if (!cl.startsWith(`${want}/`)) violate(`${seed} (${implName(d.impl)}): command -v cl_status is ${cl || 'nothing'}, not the one in ${want}`)
      const ask = async (args: string[]): Promise<string> => (await d.host.exec([cl, ...args], { env: adminEnv(seed), timeoutMs: 15_000 })).stdout.trim()
      // Asked side by side: a checkpoint is many small commands, and this machine is shared.
      const hbctlRun = d.impl === 'ts' ? d.host.exec([join(npmBin(seed), 'hbctl'), 'status', '--json'], { env: adminEnv(seed), timeoutMs: 15_000 }) : undefined
      const [s5, s6, rsc] = await Promise.all([ask(['nodestatus', SEED_NODENAME.titanic5]), ask(['nodestatus', SEED_NODENAME.titanic6]), ask(['rscstatus'])])
      const status = { titanic5: s5, titanic6: s6 }
      out.push({
        source: `${cl} (${implName(d.impl)})`,
        status,
        holder: rsc === 'transition' ? 'transition' : rscHolds(seed, rsc) ? seed : 'not me',
        word: `rscstatus ${rsc}`,
      })
      if (hbctlRun !== undefined) {
        const r = await hbctlRun
        if (r.exitCode === 0) {
          const s = JSON.parse(r.stdout) as ClusterStatus
          const g = s.groups[0]
          const nodeWord = (n: SeedNode): string => s.nodes.find((x) => x.name === SEED_NODENAME[n])?.status ?? '?'
          out.push({
            source: 'hbctl status',
            status: { titanic5: nodeWord('titanic5'), titanic6: nodeWord('titanic6') },
            holder: g === undefined ? 'nobody' : g.state === 'starting' || g.state === 'stopping' ? 'transition' : seedOfName(g.holder),
            word: `group ${g?.key ?? '?'} ${g?.state ?? '?'}`,
          })
        } else out.push({ source: `hbctl status (exit ${r.exitCode}: ${r.stderr.trim()})`, status: { titanic5: '?', titanic6: '?' }, holder: 'transition', word: '' })
      }
      return out
    }
    /** Everything agrees that `holder` holds the VIP and each director's status is `up[seed]`. */
    const checkpoint = async (label: string, holder: SeedNode, up: Record<SeedNode, 'active' | 'dead'>): Promise<void> => {
      const running = DIRECTORS.filter((s) => up[s] === 'active')
      let lines: string[] = []
      let problems: string[] = []
      const look = async (): Promise<boolean> => {
        lines = []
        problems = []
        const [views, owners, t6Labels, table, otherTable, answer] = await Promise.all([
          Promise.all(running.map(async (seed) => ({ seed, views: await viewsOf(seed) }))),
          c.owners(),
          c.vipLabels('titanic6'),
          c.ipvsSave(holder),
          running.includes(peerOf(holder)) ? c.ipvsSave(peerOf(holder)) : Promise.resolve(''),
          c.httpGet(1000),
        ])
        for (const { seed, views: vs } of views) {
          for (const v of vs) {
            lines.push(`${seed} ${v.source}: titanic5 ${v.status.titanic5}, titanic6 ${v.status.titanic6}; ${v.word} → holder ${v.holder === 'not me' ? `not ${seed}` : v.holder}`)
            for (const s of DIRECTORS) if (v.status[s] !== up[s]) problems.push(`${seed} ${v.source} says ${s} is ${v.status[s]}, not ${up[s]}`)
            const agrees = v.holder === 'not me' ? holder !== seed : v.holder === holder
            if (!agrees) problems.push(`${seed} ${v.source} says the holder is ${v.holder === 'not me' ? `not ${seed}` : v.holder}, not ${holder}`)
          }
        }
        // What the hosts show: the VIP on eth0, the LVS table, the client's answer.
        lines.push(`ip addr: ${VIP} on eth0 of ${owners.join(', ') || 'nobody'}; on titanic6: ${t6Labels.join(', ') || 'none'}`)
        if (owners.join() !== holder) problems.push(`the VIP is on eth0 of ${owners.join(', ') || 'nobody'}, not ${holder}`)
        // titanic6 is real server 1 whenever it does not hold the VIP: the address stays on lo:0.
        if (holder !== 'titanic6' && t6Labels.join() !== 'lo:0') problems.push(`titanic6 (real server 1) has the VIP on ${t6Labels.join(', ') || 'nothing'}, not on lo:0 only`)
        const rows = table.split('\n').filter((l) => l.startsWith('-a')).length
        const otherRows = otherTable.trim()
        lines.push(`ipvsadm -S -n: ${rows} real servers on ${holder}; ${otherRows === '' ? 'empty' : 'NOT empty'} on ${peerOf(holder)}`)
        if (rows !== 3) problems.push(`${holder}'s LVS table has ${rows} real servers, not 3`)
        if (otherRows !== '') problems.push(`${peerOf(holder)}'s LVS table is not empty`)
        lines.push(`client: http://${VIP}/ answered by ${answer ?? 'nobody'}`)
        if (answer !== holder) problems.push(`the client is answered by ${answer ?? 'nobody'}, not ${holder}`)
        return problems.length === 0
      }
      const ok = await waitFor(`views agree (${label})`, async () => ((await look()) ? true : undefined), CHECKPOINT_TIMEOUT_MS, 500).then(
        () => true,
        () => false,
      )
      checkpoints.push(`-- ${label}`, ...lines.map((l) => `   ${l}`))
      note(`  check: ${label}${ok ? ': all views agree' : ''}`)
      for (const l of lines) note(`    ${l}`)
      if (!ok) violate(`step ${step}, ${label}: views disagree after ${CHECKPOINT_TIMEOUT_MS} ms: ${problems.join('; ')}`)
    }
    /** Wait as an admin would before hb_standby: 3.0.6 ignores it while either side is in transition. */
    const settled = async (): Promise<void> => {
      await waitFor('both resource managers stable', async () => {
        for (const seed of DIRECTORS) {
          const cl = await clStatusPath(seed)
          const r = await c.directors[seed].host.exec([cl, 'rscstatus'], { env: adminEnv(seed) })
          if (r.exitCode !== 0 || r.stdout.trim() === 'transition') return undefined
        }
        return true
      }, 30_000, 300)
    }

    // --- actions, timed against the client's answers ---
    const action = async (name: string, body: () => Promise<void>, switchover?: ActionReport['switchover']): Promise<void> => {
      note(`step ${step}: ${name}`)
      const startMs = Date.now()
      let handOverMs: number | undefined
      await body()
      if (switchover !== undefined) {
        const p = prober
        const first = await waitFor(`first answer by ${switchover.to}`, async () => {
          const l = p?.lines.find((x) => x.atMs >= startMs && x.text.split(' ')[1] === switchover.to)
          return l === undefined ? undefined : Number(l.text.split(' ')[0])
        }, STEP_TIMEOUT_MS, 20)
        handOverMs = first - startMs
        await sleep(SWITCHOVER_TAIL_MS)
      }
      actions.push({ step, name, startMs, endMs: Date.now(), ...(switchover !== undefined ? { switchover, handOverMs } : {}), requests: 0, failed: 0, longestGapMs: 0, answeredBy: {} })
    }
    const handOver = async (from: SeedNode, baseline: boolean): Promise<void> => {
      const to = peerOf(from)
      await settled()
      const impls = `${implName(c.directors[from].impl)} → ${implName(c.directors[to].impl)}`
      await action(`hb_standby on ${from}: the VIP moves to ${to} (${impls})`, async () => {
        await mustAdmin(from, ['/usr/share/heartbeat/hb_standby'], '/usr/share/heartbeat/hb_standby')
      }, { from, to, impls, baseline })
    }
    /** Switch a node's daemon: stop it (it holds nothing), install or uninstall heartbeat-ts, start the other one. */
    const moveNode = async (seed: SeedNode, to: Impl, holderAfter: SeedNode): Promise<void> => {
      const d = c.directors[seed]
      await action(`${seed}: stop ${implName(d.impl)} (${initWords(seed)} stop)`, async () => {
        await stopDaemon(seed)
      })
      await checkpoint(`${seed} stopped: ${peerOf(seed)} alone, holding the VIP`, peerOf(seed), { [seed]: 'dead', [peerOf(seed)]: 'active' } as Record<SeedNode, 'active' | 'dead'>)
      if (to === 'ts') await install(seed)
      else {
        await uninstall(seed)
        // The Debian init script is in force again (SysV: mv /etc/init.d/heartbeat.c-heartbeat back).
      }
      d.impl = to
      const failback = holderAfter === seed
      const impls = `${implName(c.directors[peerOf(seed)].impl)} → ${implName(to)}`
      await action(`${seed}: start ${implName(to)} (${initWords(seed)} start)${failback ? `; auto_failback moves the VIP back (${impls})` : ''}`, async () => {
        await startDaemon(seed)
      }, failback ? { from: peerOf(seed), to: seed, impls, baseline: false } : undefined)
      await checkpoint(`${seed} runs ${implName(to)}: both active, ${holderAfter} holds the VIP`, holderAfter, { titanic5: 'active', titanic6: 'active' })
    }

    // --- step 0: the seed cluster on 3.0.6, and 3.0.6's own hand-over measured ---
    note('step 0: both directors start on the real heartbeat 3.0.6')
    await startDaemon('titanic5')
    await sleep(1500)
    await startDaemon('titanic6')
    await checkpoint('both on 3.0.6: titanic5 holds the VIP', 'titanic5', { titanic5: 'active', titanic6: 'active' })
    prober = await c.startProber(PROBE_EVERY_MS, PROBE_TIMEOUT_MS)
    await action('the client polls (both on 3.0.6, nothing changes)', () => sleep(1000))
    await handOver('titanic5', true)
    await checkpoint('3.0.6 pair after hb_standby on titanic5: titanic6 holds', 'titanic6', { titanic5: 'active', titanic6: 'active' })
    await handOver('titanic6', true)
    await checkpoint('3.0.6 pair after hb_standby on titanic6: titanic5 holds', 'titanic5', { titanic5: 'active', titanic6: 'active' })

    // --- step 1: titanic6 (backup) to heartbeat-ts ---
    step = 1
    await moveNode('titanic6', 'ts', 'titanic5')

    // --- step 2: the VIP to titanic6, titanic5 to heartbeat-ts, the VIP back by auto_failback ---
    step = 2
    await handOver('titanic5', false)
    await checkpoint('after hb_standby on titanic5: titanic6 (heartbeat-ts) holds', 'titanic6', { titanic5: 'active', titanic6: 'active' })
    await moveNode('titanic5', 'ts', 'titanic5')

    // --- step 3: the rollback, the same steps back to 3.0.6 ---
    step = 3
    await moveNode('titanic6', 'real', 'titanic5')
    await handOver('titanic5', false)
    await checkpoint('after hb_standby on titanic5: titanic6 (3.0.6) holds', 'titanic6', { titanic5: 'active', titanic6: 'active' })
    await moveNode('titanic5', 'real', 'titanic5')
    await action('the client polls (both on 3.0.6 again, nothing changes)', () => sleep(1000))
  } catch (err) {
    violate(`step ${step} failed: ${(err as Error).message.split('\n')[0] ?? ''}`)
  } finally {
    prober?.kill('SIGTERM')
    await prober?.exited
    if (violations.length > 0) {
      for (const seed of DIRECTORS) logTails.push(`--- ${seed} (${implName(c.directors[seed].impl)}) /var/log/ha-log, last 40 lines ---`, ...(await c.haLog(seed)).split('\n').slice(-41))
    }
    await c.destroy()
  }
  // The client's answers, charged to the action they fell in.
  const answers = (prober?.lines ?? []).filter((l) => l.stream === 'stdout').map((l) => {
    const [ms, a] = l.text.split(' ')
    return { ms: Number(ms), answer: a ?? 'ERR', ok: a !== undefined && a !== 'ERR', text: l.text }
  })
  const unplannedDetails: string[] = []
  const unplanned = (x: { ms: number; text: string }): void => {
    const before = timeline.filter((e) => e.ms <= x.ms).at(-1)
    unplannedDetails.push(`at ${((x.ms - t0) / 1000).toFixed(2)} s: ${x.text.split(' ').slice(1).join(' ')} (after: ${before?.text.trim() ?? 'the start'})`)
  }
  let unplannedFailures = 0
  for (const a of actions) {
    let lastOk = [...answers].reverse().find((x) => x.ok && x.ms < a.startMs)?.ms ?? a.startMs
    for (const x of answers) {
      if (x.ms < a.startMs || x.ms > a.endMs) continue
      a.requests++
      if (!x.ok) {
        a.failed++
        if (a.switchover === undefined) unplanned(x)
        continue
      }
      a.answeredBy[x.answer] = (a.answeredBy[x.answer] ?? 0) + 1
      a.longestGapMs = Math.max(a.longestGapMs, x.ms - lastOk)
      lastOk = x.ms
    }
    if (a.switchover === undefined) unplannedFailures += a.failed
  }
  // Between the actions (checkpoints, waits) nothing is planned either.
  for (const x of answers) {
    if (!x.ok && !actions.some((a) => x.ms >= a.startMs && x.ms <= a.endMs)) {
      unplannedFailures++
      unplanned(x)
    }
  }
  if (unplannedFailures > 0) violations.push(`${unplannedFailures} client requests failed outside the planned switchovers`)
  return { actions, unplannedFailures, unplannedDetails, violations, checkpoints, findings, identity, logTails, elapsedMs: Date.now() - t0 }
}

export function formatMigrationReport(r: MigrationResult): string {
  const lines: string[] = [`== rolling migration 3.0.6 → heartbeat-ts → 3.0.6, client every ${PROBE_EVERY_MS} ms (timeout ${PROBE_TIMEOUT_MS} ms)`]
  const who = (a: ActionReport): string => Object.entries(a.answeredBy).map(([n, k]) => `${n} ${k}`).join(', ') || 'nobody'
  for (const a of r.actions) {
    const kind = a.switchover === undefined ? '' : a.switchover.baseline ? ' [3.0.6 baseline]' : ' [planned switchover]'
    const hand = a.handOverMs === undefined ? '' : `, first answer from ${a.switchover?.to} after ${a.handOverMs} ms`
    lines.push(`  step ${a.step} ${a.name}${kind}: ${a.requests} requests, ${a.failed} failed, longest gap ${a.longestGapMs} ms${hand}; answered by ${who(a)}`)
  }
  const base = r.actions.filter((a) => a.switchover?.baseline === true)
  lines.push(`  3.0.6's own hb_standby hand-overs: ${base.map((a) => `${a.switchover?.from} → ${a.switchover?.to}: gap ${a.longestGapMs} ms, ${a.failed} failed`).join('; ')}`)
  for (const a of r.actions.filter((x) => x.switchover !== undefined && !x.switchover.baseline)) {
    // Compared with 3.0.6's hb_standby the same way round (the client's longest gap).
    const b = base.find((x) => x.switchover?.from === a.switchover?.from)
    const verdict = b === undefined ? '' : ` — ${a.longestGapMs < b.longestGapMs ? 'shorter than' : 'NOT shorter than'} 3.0.6's ${b.longestGapMs} ms`
    lines.push(`  planned switchover ${a.switchover?.from} → ${a.switchover?.to} (${a.switchover?.impls}): gap ${a.longestGapMs} ms, ${a.failed} failed${verdict}`)
  }
  for (const f of r.findings) lines.push(`  FINDING ${f}`)
  for (const seed of DIRECTORS) lines.push(`  ${seed}: hb_uuid ${r.identity[seed].uuid} kept; hb_generation ${r.identity[seed].generations.join(' → ')}`)
  lines.push(`  failed requests outside the planned switchovers: ${r.unplannedFailures}; the whole run took ${Math.round(r.elapsedMs / 1000)} s`)
  for (const u of r.unplannedDetails) lines.push(`  failed outside a switchover ${u}`)
  for (const v of r.violations) lines.push(`  VIOLATION ${v}`)
  if (r.violations.length > 0) lines.push(...r.checkpoints.map((l) => `  ${l}`), ...r.logTails.map((l) => `  | ${l}`))
  return lines.join('\n')
}
