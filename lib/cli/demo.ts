#!/usr/bin/env node
// `npm run demo`: the seed director pair in one command — namespaces titanic5, titanic6 and a client as root
// (hbctl status, a crash of titanic5 and its measured takeover, titanic5's return), else two daemons on loopback.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { networkInterfaces, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa, type ResultPromise } from 'execa'
import type { SeedCluster } from '../demo/seed-cluster.js'

const here = dirname(fileURLToPath(import.meta.url))
/** dist/lib/cli → the package root. */
const root = join(here, '..', '..', '..')
const dist = join(root, 'dist')
const VIP = '129.254.203.149'
/** Seed ha.cf deadtime (5 s); the loopback demo uses the same files' timers. */
const say = (text: string): void => void process.stdout.write(`${text}\n`)
const heading = (text: string): void => say(`\n== ${text}`)

/** Everything the demo made, undone in reverse order; runs once, also on Ctrl-C. */
const undo: Array<() => Promise<void>> = []
let cleaning: Promise<void> | undefined
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const f of undo.reverse()) {
      try {
        await f()
      } catch (err) {
        process.stderr.write(`demo: cleanup: ${(err as Error).message}\n`)
      }
    }
  })()
  return cleaning
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    say(`\n${sig}: removing everything the demo made…`)
    void cleanup().finally(() => process.exit(130))
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await Promise.resolve().then(probe).catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

// ---------------------------------------------------------------- as root: namespaces

type NsCluster = SeedCluster

async function hbctlStatus(c: NsCluster, seed: 'titanic5' | 'titanic6'): Promise<void> {
  const r = await c.directors[seed].host.exec([process.execPath, join(dist, 'lib', 'cli', 'hbctl.js'), 'status'], { env: c.envFor(seed), timeoutMs: 20_000 })
  if (r.exitCode === 0) {
    say(`$ hbctl status    (on ${seed})`)
    say(r.stdout.trimEnd())
    return
  }
  say(`(hbctl status on ${seed} answered exit ${r.exitCode}: ${r.stderr.trim()}; the VIP's labels instead)`)
  for (const s of ['titanic5', 'titanic6'] as const) say(`  ${s}: ${VIP} on ${(await c.vipLabels(s)).join(', ') || 'nothing'}`)
}

/** The group fully up on `seed`: the whole LVS table built and the client answered by it. */
async function settledOn(c: NsCluster, seed: 'titanic5' | 'titanic6'): Promise<void> {
  await until(`the LVS table on ${seed}`, async () => ((await c.ipvsSave(seed)).split('\n').filter((l) => l.startsWith('-a')).length === 3 ? true : undefined), 30_000)
  // The client follows the gratuitous ARP; until then it may still reach the previous holder.
  await until(`the client to reach ${seed}`, async () => ((await c.httpGet(500)) === seed ? true : undefined), 30_000, 200)
  await sleep(500)
}

function firstAnswerFrom(lines: Array<{ text: string }>, node: string, fromMs: number): number | undefined {
  for (const l of lines) {
    const [ms, answer] = l.text.split(' ')
    if (Number(ms) >= fromMs && answer === node) return Number(ms)
  }
  return undefined
}

async function namespaceDemo(): Promise<void> {
  // Loaded only for the namespace demo (it needs root and ip netns); it ships in lib/demo/.
  const mod = await import('../demo/seed-cluster.js')
  heading('Building the seed cluster in network namespaces (an isolated bridge, nothing touches this host’s interfaces)')
  const c = await mod.buildSeedCluster({ prefix: 'hbdemo', note: (t) => say(`  ${t}`) })
  undo.push(async () => {
    await c.destroy()
    say('removed every namespace, process and file the demo made')
  })
  say(`  ha.d files: ha.d-example/titanic5 and titanic6, unchanged (keepalive 2 s, deadtime 5 s, bcast eth0 port 1001)`)

  heading('Starting heartbeat-ts on both directors')
  await c.start('titanic5')
  await c.start('titanic6')
  const startedAt = Date.now()
  await until('titanic5 to own the VIP', async () => ((await c.owners()).join() === 'titanic5' ? true : undefined), 60_000)
  await settledOn(c, 'titanic5')
  say(`titanic5 holds ${VIP} on ${(await c.vipLabels('titanic5')).join(', ')}; titanic6 keeps it on ${(await c.vipLabels('titanic6')).join(', ')} (real server 1, silent on ARP)`)
  say(`client → http://${VIP}/ answered by: ${(await c.httpGet()) ?? 'nobody'}`)
  say('titanic5’s LVS table (ipvsadm -S -n, stand-in ipvsadm: this kernel may lack IPVS):')
  say((await c.ipvsSave('titanic5')).trimEnd().replace(/^/gm, '  '))
  await hbctlStatus(c, 'titanic5')

  // A node advertises deadtime + 2 s for its first 5 s (3.0.6); crash it after that, as in real life.
  const settle = startedAt + STARTUP_WINDOW_MS - Date.now()
  if (settle > 0) await sleep(settle)

  heading('Crashing titanic5 (SIGKILL to all its processes, cable pulled)')
  const prober = await c.startProber(20, 200)
  const crashAt = await c.crash('titanic5')
  const answeredAt = await until('titanic6 to answer on the VIP', () => firstAnswerFrom(prober.lines, 'titanic6', crashAt), 60_000, 20)
  prober.kill('SIGTERM')
  say(`takeover: the client got its first answer from titanic6 ${answeredAt - crashAt} ms after the crash (deadtime 5000 ms)`)
  await settledOn(c, 'titanic6')
  say(`titanic6 now holds ${VIP} on ${(await c.vipLabels('titanic6')).join(', ')}; the client's ARP entry for it: ${(await c.clientNeighMac()) ?? '?'} (titanic6 is ${c.directors.titanic6.mac})`)
  await hbctlStatus(c, 'titanic6')

  heading('titanic5 comes back (reboot, heartbeat-ts started)')
  await c.reboot('titanic5')
  const backAt = Date.now()
  await c.start('titanic5')
  await until('titanic5 to own the VIP again', async () => ((await c.owners()).join() === 'titanic5' ? true : undefined), 60_000)
  await until('titanic6 back on lo:0', async () => ((await c.vipLabels('titanic6')).join() === 'lo:0' ? true : undefined), 30_000)
  say(`auto_failback legacy (the seed's): the VIP failed back ${Date.now() - backAt} ms after titanic5 started; titanic6 keeps it on lo:0 again`)
  await settledOn(c, 'titanic5')
  say(`client → http://${VIP}/ answered by: ${(await c.httpGet()) ?? 'nobody'}`)
  await hbctlStatus(c, 'titanic5')
}

// ---------------------------------------------------------------- without root: loopback, dry-run agents

const LOOP_GROUP = '239.0.0.95'
/** 3.0.6's start-up extra deadtime lasts 5 s; the demo's crash comes after it. */
const STARTUP_WINDOW_MS = 6000
const LOOP_PORT = 16941

interface LoopNode {
  seed: 'titanic5' | 'titanic6'
  name: string
  dir: string
  sub: ResultPromise | undefined
  lines: string[]
}

/** The seed's ha.cf with its media swapped for a multicast group on lo and a high port (no root needed). */
function loopbackHaCf(seedText: string, logDir: string): string {
  return (
    seedText
      .split('\n')
      .filter((l) => !/^\s*(udp|bcast|udpport|debugfile|logfile|logfacility)\b/.test(l))
      .join('\n')
      .trimEnd() + `\n# demo without root: loopback instead of eth0, a high port, logs in the demo's directory\nudpport ${LOOP_PORT}\nmcast lo ${LOOP_GROUP} ${LOOP_PORT} 1 1\nlogfile ${logDir}/ha-log\ndebugfile ${logDir}/ha-debug\n`
  )
}

/** The interface a director would use: the seed's eth0 when this host has one, else the first non-loopback IPv4 one. */
function demoInterface(): string {
  const ifs = networkInterfaces()
  if (ifs.eth0 !== undefined) return 'eth0'
  for (const [name, addrs] of Object.entries(ifs)) if ((addrs ?? []).some((a) => a.family === 'IPv4' && !a.internal)) return name
  return 'lo'
}

async function loopbackDemo(why: string): Promise<void> {
  heading(`Not root (${why}): no namespaces. Two heartbeat-ts daemons on loopback instead, with HBTS_DRY_RUN=1 —`)
  say('every address, ARP and LVS change the agents would make is printed ("DRY RUN: …"), none is made.')
  // Not `hbdemo-`: the namespace kit removes stale `hbdemo-*` entries when a root demo starts.
  const base = await mkdtemp(join(tmpdir(), 'hbloopdemo-'))
  const nodes: LoopNode[] = []
  undo.push(async () => {
    for (const n of nodes) if (n.sub !== undefined) n.sub.kill('SIGKILL')
    for (const n of nodes) await n.sub?.catch(() => undefined)
    await rm(base, { recursive: true, force: true })
    say(`stopped both daemons and removed ${base}`)
  })
  const nic = demoInterface()
  for (const seed of ['titanic5', 'titanic6'] as const) {
    const dir = join(base, seed)
    for (const d of ['ha.d', 'state', 'run', 'log']) await mkdir(join(dir, d), { recursive: true, mode: 0o700 })
    const ex = join(root, 'ha.d-example', seed)
    await writeFile(join(dir, 'ha.d', 'ha.cf'), loopbackHaCf(await readFile(join(ex, 'ha.d', 'ha.cf'), 'latin1'), join(dir, 'log')))
    await writeFile(join(dir, 'ha.d', 'authkeys'), await readFile(join(ex, 'ha.d', 'authkeys')), { mode: 0o600 })
    // The seed's group; the VIP is pinned to this host's interface so the printed plan is the one a director would run.
    await writeFile(join(dir, 'ha.d', 'haresources'), `titanic5.etri.re.kr  ${VIP}/26/${nic}    lvs\n`)
    await writeFile(join(dir, 'ha.d', 'mon.cf'), await readFile(join(ex, 'mon', 'mon.cf')))
    nodes.push({ seed, name: `${seed}.etri.re.kr`, dir, sub: undefined, lines: [] })
  }
  say(`  ${base}/titanic5, ${base}/titanic6: the seed's ha.d files, media → mcast lo ${LOOP_GROUP} port ${LOOP_PORT}, VIP ${VIP}/26 on ${nic}`)

  const start = (n: LoopNode): void => {
    const sub = execa(process.execPath, [join(dist, 'lib', 'cli', 'heartbeat.js'), '-f', '-d'], {
      reject: false,
      stdin: 'ignore',
      buffer: false,
      env: {
        HBTS_NODE_NAME: n.name,
        HBTS_HA_DIR: join(n.dir, 'ha.d'),
        HBTS_STATE_DIR: join(n.dir, 'state'),
        HBTS_RUN_DIR: join(n.dir, 'run'),
        HBTS_PIDFILE: join(n.dir, 'run', 'heartbeat.pid'),
        HBTS_MON_CF: join(n.dir, 'ha.d', 'mon.cf'),
        HBTS_DRY_RUN: '1',
      },
    })
    n.sub = sub
    n.lines = []
    let partial = ''
    sub.stderr?.setEncoding('utf8')
    sub.stderr?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) {
        n.lines.push(line)
        // The takeover story: status changes, groups, and the agents' printed plans.
        const m = /(DRY RUN: .*)$/.exec(line) ?? /: (?:info|WARN): ((?:node .* is dead|Taking over|Acquiring|Releasing|Status update for node|Local status now set to).*)$/.exec(line)
        if (process.env.HBTS_DEMO_VERBOSE === '1') say(`  [${n.seed}] ${line}`)
        else if (m?.[1] !== undefined) say(`  [${n.seed}] ${m[1]}`)
      }
    })
  }
  const t5 = nodes[0]
  const t6 = nodes[1]
  if (t5 === undefined || t6 === undefined) throw new Error('demo: nodes missing')
  const holds = (n: LoopNode): boolean => {
    // The last IPaddr plan line says where the address is (dry run: nothing is really changed).
    let held = false
    for (const l of n.lines) {
      if (/DRY RUN: ip addr add \S+ .*dev (?!lo\b)/.test(l)) held = true
      else if (/DRY RUN: ip addr del /.test(l) && !/real-server role/.test(l)) held = false
    }
    return held
  }

  heading('Starting both daemons')
  start(t5)
  start(t6)
  await until('titanic5 to take the group', () => (holds(t5) && !holds(t6) ? true : undefined), 60_000)
  // A node advertises deadtime + 2 s for its first 5 s (3.0.6); crash it after that, as in real life.
  await sleep(STARTUP_WINDOW_MS)

  heading('Crashing titanic5 (SIGKILL)')
  const crashAt = Date.now()
  t5.sub?.kill('SIGKILL')
  await t5.sub?.catch(() => undefined)
  await until('titanic6 to take over', () => (holds(t6) ? true : undefined), 60_000, 20)
  say(`takeover: titanic6 ran its (printed) IPaddr start ${Date.now() - crashAt} ms after the crash (deadtime 5000 ms)`)
  await until('titanic6 to finish the takeover', () => (t6.lines.some((l) => /takeover complete/.test(l)) ? true : undefined), 60_000)
  await sleep(2000)

  heading('titanic5 comes back')
  // A crash is a reboot: /run is empty again (IPaddr's and lvs's records, the dry run's pretend addresses).
  await rm(join(t5.dir, 'run'), { recursive: true, force: true })
  await mkdir(join(t5.dir, 'run'), { recursive: true, mode: 0o700 })
  start(t5)
  await until('the VIP to fail back to titanic5', () => (holds(t5) && !holds(t6) ? true : undefined), 60_000)
  say('auto_failback legacy (the seed\'s): titanic6 released the group and titanic5 took it back')

  heading('Stopping both daemons (SIGTERM: resources released, as at shutdown)')
  for (const n of nodes) n.sub?.kill('SIGTERM')
  for (const n of nodes) await n.sub?.catch(() => undefined)
}

async function main(): Promise<number> {
  say('heartbeat-ts demo — the seed LVS director pair (titanic5 master, titanic6 backup and real server 1)')
  try {
    if (process.getuid?.() !== 0) {
      await loopbackDemo('namespaces need root')
    } else {
      const probe = await execa('ip', ['netns', 'list'], { reject: false, timeout: 10_000 })
      if (probe.exitCode !== 0) await loopbackDemo(`ip netns unavailable: ${String(probe.stderr).trim()}`)
      else await namespaceDemo()
    }
    return 0
  } catch (err) {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`)
    return 1
  } finally {
    heading('Cleaning up')
    await cleanup()
  }
}

process.exitCode = await main()
