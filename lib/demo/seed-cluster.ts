// The seed LVS cluster in namespaces: titanic5/titanic6 directors (heartbeat-ts or the real 3.0.6) with the
// seed's ha.d files unchanged, titanic6 also real server 1 (VIP on lo:0), titanic7/8 real servers, a client.

import { mkdir, readFile, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { createKit, distFile, netnsPids, repoRoot, waitFor, REAL_HEARTBEAT, type Host, type Kit, type Proc } from './netns-kit.js'
import { SEED_ADDRESS, SEED_NODENAME, seedFile, type SeedNode } from './seed-node.js'

export const VIP = '129.254.203.149'
/** The seed's broadcast for the /26 (ifcfg-lo:0 BROADCAST). */
export const SEED_BROADCAST = '129.254.203.191'
// Inside the seed's /26 (.128-.191), unused by the seed.
export const CLIENT_ADDRESS = '129.254.203.140/26'
export const REAL_SERVER_ADDRESS = { titanic7: '129.254.203.147/26', titanic8: '129.254.203.148/26' } as const
export const DIRECTORS: readonly SeedNode[] = ['titanic5', 'titanic6']

export type Impl = 'ts' | 'real'

export interface SeedClusterOptions {
  /** Kit prefix: 2-11 lowercase letters/digits, unique per test file. */
  prefix: string
  impl?: Partial<Record<SeedNode, Impl>>
  /** Change a node's ha.cf text (the seed file is the input); default: the seed file verbatim. */
  haCf?: (node: SeedNode, seedText: string) => string
  /** Replace haresources on both directors; default: the seed file verbatim. */
  haresources?: string
  /** heartbeat-ts.conf for heartbeat-ts directors (absent: every default). */
  settings?: string
  /** Extra files under each director's node root, e.g. `etc/ha.d/resource.d/fails` (mode 755). */
  extraFiles?: Record<string, string>
  /** titanic7 and titanic8 as real servers (so mon's checks all pass). Default true. */
  realServers?: boolean
  /** titanic6 boots as real server 1: VIP on lo:0 /32 with ARP suppressed. Default true. */
  titanic6RealServer?: boolean
  /** Extra environment for the directors' daemons. */
  env?: Record<string, string>
  /** Progress lines (the demo prints them). */
  note?: (text: string) => void
}

export interface Director {
  seed: SeedNode
  /** uname -n, as in ha.cf. */
  name: string
  host: Host
  impl: Impl
  mac: string
  daemon: Proc | undefined
}

export interface SeedCluster {
  kit: Kit
  directors: Record<SeedNode, Director>
  client: Host
  reals: Host[]
  /** The environment the directors' daemons get (PATH with the stand-in ipvsadm first, HBTS_MON_CF). */
  envFor(seed: SeedNode): Record<string, string>
  /** Start the director's daemon; resolves once it is running (not once it owns anything). */
  start(seed: SeedNode): Promise<void>
  /** Graceful stop (SIGTERM to heartbeat-ts, `heartbeat -k` for 3.0.6); resolves when the daemon is gone. */
  stop(seed: SeedNode, timeoutMs?: number): Promise<void>
  /** Crash: SIGKILL to every process of the host, then its cable pulled. Returns the wall-clock ms of the kill. */
  crash(seed: SeedNode): Promise<number>
  /** After a crash: what a reboot resets (VIP off eth0, /run emptied, lo:0 back on titanic6), cable in, httpd up. */
  reboot(seed: SeedNode): Promise<void>
  /** Labels carrying the VIP on the director (e.g. ['eth0:0'] or ['lo:0']). */
  vipLabels(seed: SeedNode): Promise<string[]>
  /** Directors holding the VIP on a non-loopback interface. */
  owners(): Promise<SeedNode[]>
  /** One HTTP GET to the VIP from the client: the answering node name, or undefined. */
  httpGet(timeoutMs?: number): Promise<string | undefined>
  /** A client process asking the VIP every intervalMs; its lines are `<ms> <answer>`. */
  startProber(intervalMs?: number, timeoutMs?: number): Promise<Proc>
  /** arping the VIP from the client: the MAC of every reply. */
  arpingMacs(count?: number): Promise<string[]>
  /** The client's neighbour entry for the VIP (lowercase MAC), if any. */
  clientNeighMac(): Promise<string | undefined>
  /** `ipvsadm -S -n` on a director (the stand-in's table for that namespace). */
  ipvsSave(seed: SeedNode): Promise<string>
  /** The director's /var/log/ha-log (the seed ha.cf's logfile). */
  haLog(seed: SeedNode): Promise<string>
  destroy(): Promise<void>
}

const HOST_SHORT: Record<string, string> = { titanic5: 't5', titanic6: 't6', titanic7: 't7', titanic8: 't8' }

async function macOf(host: Host): Promise<string> {
  const r = await host.exec(['ip', '-j', 'link', 'show', 'eth0'])
  const parsed = JSON.parse(r.stdout) as Array<{ address?: string }>
  const mac = parsed[0]?.address
  if (mac === undefined) throw new Error(`${host.name}: no MAC on eth0: ${r.stderr}`)
  return mac.toLowerCase()
}

async function mustExec(host: Host, argv: readonly string[]): Promise<string> {
  const r = await host.exec(argv)
  if (r.exitCode !== 0) throw new Error(`${host.name}: ${argv.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim()}`)
  return r.stdout
}

/** The heartbeat 3.0.6 processes of a host (a master, a FIFO reader, a reader and a writer per medium). */
export async function realHeartbeatPids(host: Host): Promise<number[]> {
  const out: number[] = []
  for (const pid of await netnsPids(host.ns)) {
    const comm = await readFile(`/proc/${pid}/comm`, 'latin1').catch(() => '')
    if (comm.trim() === 'heartbeat') out.push(pid)
  }
  return out
}

/** titanic6's boot-time real-server role (ifcfg-lo:0 + sysctl.conf.realserver, `hidden` read as arp_ignore/arp_announce). */
export async function bootRealServerRole(host: Host): Promise<void> {
  await mustExec(host, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'])
  const r = await host.exec(['ip', 'addr', 'add', `${VIP}/32`, 'brd', SEED_BROADCAST, 'dev', 'lo', 'label', 'lo:0'])
  if (r.exitCode !== 0 && !r.stderr.includes('File exists')) throw new Error(`${host.name}: lo:0: ${r.stderr.trim()}`)
}

/** The table the seed's init.d/lvs builds: its own `$IPVSADM …` lines run against a scratch stand-in state, then `-S -n`. */
export async function seedScriptTable(scratchState: string): Promise<string> {
  const script = await readFile(join(repoRoot, 'ha.d-example', 'titanic5', 'init.d', 'lvs'), 'latin1')
  const ipvsadm = join(repoRoot, 'lib', 'demo', 'bin', 'ipvsadm')
  const env = { ...process.env, IPVSADM_STANDIN_STATE: scratchState, IPVSADM_STANDIN_LOCAL: '' }
  await rm(scratchState, { force: true })
  for (const line of script.split('\n')) {
    const m = /^\s*\$IPVSADM\s+(-[Aa]\s.*)$/.exec(line)
    if (!m?.[1]) continue
    // The 2.2-era ipvsadm spelled the real-server option -R; 1.31 (and the stand-in) read -R as --restore.
    const words = m[1].trim().split(/\s+/).map((w) => (w === '-R' ? '-r' : w))
    const r = await execa(ipvsadm, words, { env, reject: false, timeout: 15_000 })
    if (r.exitCode !== 0) throw new Error(`seed script line ${JSON.stringify(line.trim())}: ${String(r.stderr)}`)
  }
  const save = await execa(ipvsadm, ['-S', '-n'], { env, reject: false, timeout: 15_000 })
  await rm(scratchState, { force: true })
  await rm(`${scratchState}.lock`, { recursive: true, force: true })
  return String(save.stdout)
}

export async function buildSeedCluster(opts: SeedClusterOptions): Promise<SeedCluster> {
  const note = opts.note ?? (() => undefined)
  const impl: Record<SeedNode, Impl> = { titanic5: opts.impl?.titanic5 ?? 'ts', titanic6: opts.impl?.titanic6 ?? 'ts' }
  const t6RealServer = opts.titanic6RealServer ?? true
  const kit = await createKit(opts.prefix)
  try {
    const httpServer = await distFile('lib/demo/http-name-server.js')
    const prober = await distFile('lib/demo/http-prober.js')
    const heartbeatCli = await distFile('lib/cli/heartbeat.js')
    const servers = new Map<string, Proc>()
    const startHttpd = async (host: Host, name: string): Promise<void> => {
      const p = host.spawn([process.execPath, httpServer, name, '80'])
      await p.waitForLine(/^listening$/, 15_000)
      servers.set(host.name, p)
    }

    const directors = {} as Record<SeedNode, Director>
    for (const seed of DIRECTORS) {
      const host = await kit.addHost({ name: HOST_SHORT[seed] ?? seed, address: SEED_ADDRESS[seed], hostname: SEED_NODENAME[seed] })
      note(`${seed}: namespace ${host.ns}, eth0 ${SEED_ADDRESS[seed]}, uname -n ${SEED_NODENAME[seed]}`)
      // The seed's files, unchanged (authkeys with the mode 600 heartbeat insists on).
      const haCf = await seedFile(seed, 'ha.cf')
      await host.writeFile('etc/ha.d/ha.cf', opts.haCf ? opts.haCf(seed, haCf) : haCf)
      await host.writeFile('etc/ha.d/authkeys', await seedFile(seed, 'authkeys'), 0o600)
      await host.writeFile('etc/ha.d/haresources', opts.haresources ?? (await seedFile(seed, 'haresources')))
      await host.writeFile('etc/mon/mon.cf', await readFile(join(repoRoot, 'ha.d-example', seed, 'mon', 'mon.cf')))
      if (impl[seed] === 'ts') {
        // heartbeat-ts runs IPaddr and lvs built in; Debian's shell versions in resource.d stay as they are.
        if (opts.settings !== undefined) await host.writeFile('etc/ha.d/heartbeat-ts.conf', opts.settings)
      } else {
        // The real node: Debian's own IPaddr; `lvs` is ours (the seed's init.d/lvs needs ifconfig aliases, hidden and mon).
        await rm(join(host.root, 'etc/ha.d/resource.d/lvs'), { force: true })
        await symlink(join(repoRoot, 'resource.d', 'lvs'), join(host.root, 'etc/ha.d/resource.d/lvs'))
      }
      for (const [rel, text] of Object.entries(opts.extraFiles ?? {})) await host.writeFile(rel, text, 0o755)
      await startHttpd(host, seed)
      directors[seed] = { seed, name: SEED_NODENAME[seed], host, impl: impl[seed], mac: await macOf(host), daemon: undefined }
    }
    if (t6RealServer) {
      await bootRealServerRole(directors.titanic6.host)
      note(`titanic6: real server 1 — ${VIP}/32 on lo:0, arp_ignore=1 arp_announce=2`)
    }
    const reals: Host[] = []
    if (opts.realServers ?? true) {
      for (const [name, address] of Object.entries(REAL_SERVER_ADDRESS)) {
        const host = await kit.addHost({ name: HOST_SHORT[name] ?? name, address, hostname: `${name}.etri.re.kr` })
        await bootRealServerRole(host)
        await startHttpd(host, name)
        reals.push(host)
      }
      note('titanic7, titanic8: real servers with httpd and the VIP on lo:0')
    }
    const client = await kit.addHost({ name: 'cl', address: CLIENT_ADDRESS, hostname: 'client' })
    note(`client: ${CLIENT_ADDRESS}`)

    const envFor = (seed: SeedNode): Record<string, string> => {
      const base: Record<string, string> = {}
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('HBTS_') && !k.startsWith('IPVSADM_STANDIN')) base[k] = v
      return {
        ...base,
        // The stand-in ipvsadm (no IPVS in this kernel) first; it keeps one table per namespace under /run.
        PATH: `${join(repoRoot, 'lib', 'demo', 'bin')}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
        // heartbeat 3.0.6 resets PATH for its resource scripts; lvs also takes the stand-in by name.
        HBTS_IPVSADM: join(repoRoot, 'lib', 'demo', 'bin', 'ipvsadm'),
        HBTS_MON_CF: join(directors[seed].host.root, 'etc', 'mon', 'mon.cf'),
        ...(opts.env ?? {}),
      }
    }

    const daemonGone = async (d: Director, timeoutMs: number): Promise<void> => {
      if (d.impl === 'ts') {
        const p = d.daemon
        if (p === undefined) return
        const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
        await p.exited
        clearTimeout(t)
        return
      }
      // The host's own processes: a pgrep inside it sees every namespace's, another cluster's 3.0.6 too.
      await waitFor(`${d.seed}: heartbeat 3.0.6 gone`, async () => ((await realHeartbeatPids(d.host)).length > 0 ? undefined : true), timeoutMs, 100)
    }

    const cluster: SeedCluster = {
      kit,
      directors,
      client,
      reals,
      envFor,
      async start(seed) {
        const d = directors[seed]
        if (d.impl === 'ts') {
          d.daemon = d.host.spawn([process.execPath, heartbeatCli, '-f'], { env: envFor(seed) })
          await d.daemon.waitForLine(/Starting heartbeat-ts|UDP heartbeat started/, 20_000)
        } else {
          const r = await d.host.exec([REAL_HEARTBEAT], { env: envFor(seed) })
          if (r.exitCode !== 0) throw new Error(`${seed}: heartbeat 3.0.6 failed to start (exit ${r.exitCode}): ${r.stderr}`)
          d.daemon = undefined
        }
        note(`${seed}: ${d.impl === 'ts' ? 'heartbeat-ts' : 'heartbeat 3.0.6'} started`)
      },
      async stop(seed, timeoutMs = 30_000) {
        const d = directors[seed]
        if (d.impl === 'ts') d.daemon?.kill('SIGTERM')
        else await d.host.exec([REAL_HEARTBEAT, '-k'], { timeoutMs })
        await daemonGone(d, timeoutMs)
        d.daemon = undefined
      },
      async crash(seed) {
        const d = directors[seed]
        const at = Date.now()
        await d.host.killAll('SIGKILL')
        await d.host.linkDown()
        d.daemon = undefined
        servers.delete(d.host.name)
        return at
      },
      async reboot(seed) {
        const d = directors[seed]
        // A reboot ends every process, the httpd of a node stopped gracefully too (else the new one finds port 80 taken).
        const oldHttpd = servers.get(d.host.name)
        servers.delete(d.host.name)
        await d.host.killAll('SIGKILL')
        if (oldHttpd !== undefined) await oldHttpd.exited
        const r = await d.host.exec(['ip', '-j', '-4', 'addr', 'show'])
        const links = JSON.parse(r.stdout || '[]') as Array<{ ifname: string; addr_info?: Array<{ local: string; prefixlen: number }> }>
        for (const l of links) for (const a of l.addr_info ?? []) if (a.local === VIP) await d.host.exec(['ip', 'addr', 'del', `${VIP}/${a.prefixlen}`, 'dev', l.ifname])
        // /run is a tmpfs: the IPVS table (stand-in), IPaddr's and lvs's records do not survive a reboot.
        for (const dir of ['ipvsadm-standin', 'heartbeat/IPaddr', 'heartbeat/lvs', 'heartbeat/hbctl.sock', 'heartbeat-ts', 'heartbeat.pid', 'resource-agents']) {
          await rm(join(d.host.root, 'run', dir), { recursive: true, force: true })
        }
        await mkdir(join(d.host.root, 'run', 'resource-agents'), { recursive: true })
        if (seed === 'titanic6' && t6RealServer) await bootRealServerRole(d.host)
        await d.host.linkUp()
        await startHttpd(d.host, seed)
      },
      async vipLabels(seed) {
        const r = await directors[seed].host.exec(['ip', '-j', '-4', 'addr', 'show'])
        const links = JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local: string; label?: string }> }>
        return links.flatMap((l) => l.addr_info ?? []).filter((a) => a.local === VIP).map((a) => a.label ?? '?')
      },
      async owners() {
        const out: SeedNode[] = []
        for (const seed of DIRECTORS) if ((await cluster.vipLabels(seed)).some((l) => !l.startsWith('lo'))) out.push(seed)
        return out
      },
      async httpGet(timeoutMs = 2000) {
        const r = await client.exec(['curl', '-s', '--max-time', String(timeoutMs / 1000), `http://${VIP}/`], { timeoutMs: timeoutMs + 5000 })
        return r.exitCode === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined
      },
      async startProber(intervalMs = 20, timeoutMs = 200) {
        const p = client.spawn([process.execPath, prober, VIP, '80', String(intervalMs), String(timeoutMs)])
        await p.waitForLine(/^\d+ /, 10_000)
        return p
      },
      async arpingMacs(count = 3) {
        const r = await client.exec(['arping', '-c', String(count), '-w', String(count + 2), '-I', 'eth0', VIP], { timeoutMs: (count + 10) * 1000 })
        return [...r.stdout.matchAll(/\[([0-9A-Fa-f:]{17})\]/g)].map((m) => (m[1] ?? '').toLowerCase())
      },
      async clientNeighMac() {
        const r = await client.exec(['ip', '-j', 'neigh', 'show', VIP, 'dev', 'eth0'])
        const entries = JSON.parse(r.stdout || '[]') as Array<{ lladdr?: string; state?: string[] }>
        return entries.find((e) => e.lladdr !== undefined)?.lladdr?.toLowerCase()
      },
      async ipvsSave(seed) {
        const r = await directors[seed].host.exec(['ipvsadm', '-S', '-n'], { env: envFor(seed) })
        if (r.exitCode !== 0) throw new Error(`${seed}: ipvsadm -S -n failed: ${r.stderr}`)
        return r.stdout
      },
      async haLog(seed) {
        try {
          return (await directors[seed].host.readFile('var/log/ha-log')).toString('latin1')
        } catch {
          return ''
        }
      },
      destroy: () => kit.destroy(),
    }
    return cluster
  } catch (err) {
    await kit.destroy()
    throw err
  }
}
