// Network-namespace kit (the demo's and the namespace tests'): an isolated L2 segment (a bridge inside its own "switch" namespace)
// with hosts whose interface is eth0, each a private node filesystem and hostname, able to run the
// real heartbeat 3.0.6 or heartbeat-ts; everything it makes is removed by destroy().

import { execa, type ResultPromise } from 'execa'
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod, readdir, access } from 'node:fs/promises'
import { constants } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
/** The repository (or installed package) root, whether this file runs from lib/demo or dist/lib/demo. */
export const repoRoot = here.includes(`${'/dist/'}`) ? join(here, '..', '..', '..') : join(here, '..', '..')
const holderScript = join(repoRoot, 'lib', 'demo', 'node-holder.sh')

export const REAL_HEARTBEAT = '/usr/libexec/heartbeat/heartbeat'
const CMD_TIMEOUT_MS = 30_000

export type Availability = { ok: true } | { ok: false; reason: string }

async function canRun(argv: readonly string[]): Promise<boolean> {
  const [cmd, ...args] = argv
  if (cmd === undefined) return false
  const r = await execa(cmd, args, { reject: false, timeout: CMD_TIMEOUT_MS })
  return r.exitCode === 0
}

/** Can this machine build namespaced hosts? (root, ip, unshare, nsenter, a throwaway netns). */
export async function netnsAvailability(): Promise<Availability> {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root' }
  for (const tool of ['ip', 'unshare', 'nsenter', 'nft']) {
    if (!(await canRun(['sh', '-c', `command -v ${tool}`]))) return { ok: false, reason: `${tool} not installed` }
  }
  const probe = `hbkprobe${process.pid}`
  const made = await canRun(['ip', 'netns', 'add', probe])
  if (!made) return { ok: false, reason: 'ip netns add failed (no CAP_SYS_ADMIN or no netns support)' }
  await execa('ip', ['netns', 'del', probe], { reject: false, timeout: CMD_TIMEOUT_MS })
  return { ok: true }
}

/** netnsAvailability() plus the Debian heartbeat package (the real 3.0.6 daemon and cl_status). */
export async function realHeartbeatAvailability(): Promise<Availability> {
  const a = await netnsAvailability()
  if (!a.ok) return a
  for (const f of [REAL_HEARTBEAT, '/usr/bin/cl_status', '/etc/ha.d/harc']) {
    try {
      await access(f, constants.X_OK)
    } catch {
      return { ok: false, reason: `${f} missing (apt-get install heartbeat)` }
    }
  }
  return { ok: true }
}

/** The part of a tap Test that gate() uses (shipped code does not import tap). */
interface TapLike {
  pass(message: string, extra: { skip: string }): unknown
  fail(message: string): unknown
}

/**
 * Decide whether a namespace test can run. Outside CI a missing capability skips with the
 * reason printed; under CI=true it is a failure, because CI is where these tests must run.
 */
export function gate(t: TapLike, a: Availability): boolean {
  if (a.ok) return true
  if (process.env.CI === 'true') t.fail(`namespace test cannot run under CI: ${a.reason}`)
  else t.pass(`namespace test skipped: ${a.reason}`, { skip: a.reason })
  return false
}

export interface Line {
  /** Wall-clock ms (Date.now) when the kit read the line. */
  atMs: number
  stream: 'stdout' | 'stderr'
  text: string
}

/** A long-lived process the kit started and will kill in destroy(). */
export interface Proc {
  readonly pid: number | undefined
  readonly lines: Line[]
  /** Resolves with the first line (already seen or future) matching re, or rejects after timeoutMs. */
  waitForLine(re: RegExp, timeoutMs: number, fromIndex?: number): Promise<Line>
  kill(signal?: NodeJS.Signals): void
  /** Exit code, or null when killed by a signal. */
  readonly exited: Promise<number | null>
}

export interface HostSpec {
  /** Short name, unique inside the kit (used in the namespace name). */
  name: string
  /** Address with prefix length, e.g. 129.254.203.145/26. */
  address: string
  /** uname -n inside the host (default: name). */
  hostname?: string
}

export interface ExecResult {
  stdout: string
  stderr: string
  exitCode: number
}

export interface Host {
  readonly name: string
  readonly ns: string
  readonly hostname: string
  /** The bare IPv4 address. */
  readonly ip: string
  readonly ifname: 'eth0'
  /** The node's own filesystem root: etc/ha.d, var/lib/heartbeat, var/log, run live under it. */
  readonly root: string
  /** Run a command to completion inside the host's net, UTS and mount namespaces. */
  exec(argv: readonly string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<ExecResult>
  /** Start a long-lived command inside the host; killed by destroy(). */
  spawn(argv: readonly string[], opts?: { env?: Record<string, string> }): Proc
  /** Cable pull: the switch port of this host goes down. */
  linkDown(): Promise<void>
  linkUp(): Promise<void>
  /** Random loss of this host's outgoing UDP; returns the mechanism used. */
  setLoss(percent: number): Promise<'netem' | 'nft'>
  clearLoss(): Promise<void>
  /** SIGKILL (or another signal) to every process in the host except the kit's holder. */
  killAll(signal?: NodeJS.Signals): Promise<number[]>
  /** Path relative to the node root, e.g. 'etc/ha.d/ha.cf'. */
  writeFile(rel: string, content: string | Buffer, mode?: number): Promise<void>
  readFile(rel: string): Promise<Buffer>
  /** Start the real heartbeat 3.0.6 (it daemonizes); resolves once the launcher returned. */
  startRealHeartbeat(): Promise<ExecResult>
  /** The real cl_status, run inside the host. */
  clStatus(args: readonly string[]): Promise<ExecResult>
}

export interface Kit {
  readonly prefix: string
  addHost(spec: HostSpec): Promise<Host>
  /** Remove every namespace, process and directory this kit made. Safe to call twice. */
  destroy(): Promise<void>
}

async function run(cmd: string, args: readonly string[], timeoutMs = CMD_TIMEOUT_MS): Promise<ExecResult> {
  const r = await execa(cmd, args, { reject: false, timeout: timeoutMs, stdin: 'ignore' })
  const res = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? -1 }
  return res
}

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args)
  if (r.exitCode !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.exitCode}: ${r.stderr.trim()}`)
  }
  return r.stdout
}

/** Every process in the network namespace `ns` (pgrep inside a host would also see other hosts' processes). */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns])
  if (r.exitCode !== 0) return []
  return r.stdout
    .split('\n')
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n) && n > 0)
}

function killQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

/** Kill every process in `ns`, then delete it (a test's teardown, even after a failure). */
export async function removeNamespace(ns: string): Promise<void> {
  for (const pid of await netnsPids(ns)) killQuietly(pid, 'SIGKILL')
  // The kernel frees a namespace once its last process is gone; give killed processes a moment.
  for (let i = 0; i < 50 && (await netnsPids(ns)).length > 0; i++) await new Promise((r) => setTimeout(r, 20))
  await run('ip', ['netns', 'del', ns])
}

/** Remove what an earlier, crashed run with this prefix left behind. */
export async function cleanupStale(prefix: string): Promise<void> {
  const r = await run('ip', ['-j', 'netns', 'list'])
  let names: string[] = []
  try {
    const parsed = JSON.parse(r.stdout || '[]') as Array<{ name?: unknown }>
    names = parsed.map((e) => (typeof e.name === 'string' ? e.name : '')).filter((n) => n.startsWith(`${prefix}-`))
  } catch {
    names = []
  }
  for (const ns of names) await removeNamespace(ns)
  for (const entry of await readdir(tmpdir())) {
    if (entry.startsWith(`${prefix}-`)) await rm(join(tmpdir(), entry), { recursive: true, force: true })
  }
}

function track(sub: ResultPromise, onLine?: (l: Line) => void): Proc {
  const lines: Line[] = []
  const waiters: Array<{ re: RegExp; from: number; resolve: (l: Line) => void }> = []
  const feed = (stream: 'stdout' | 'stderr') => {
    let partial = ''
    const s = stream === 'stdout' ? sub.stdout : sub.stderr
    s?.setEncoding('utf8')
    s?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const text of parts) {
        const line: Line = { atMs: Date.now(), stream, text }
        lines.push(line)
        onLine?.(line)
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i]
          if (w !== undefined && lines.length - 1 >= w.from && w.re.test(text)) {
            waiters.splice(i, 1)
            w.resolve(line)
          }
        }
      }
    })
  }
  feed('stdout')
  feed('stderr')
  const exited = sub.then(
    (r) => r.exitCode ?? null,
    () => null,
  )
  return {
    pid: sub.pid,
    lines,
    waitForLine(re, timeoutMs, fromIndex = 0) {
      const seen = lines.slice(fromIndex).find((l) => re.test(l.text))
      if (seen) return Promise.resolve(seen)
      return new Promise<Line>((resolve, reject) => {
        const w = { re, from: fromIndex, resolve: (l: Line) => (clearTimeout(timer), resolve(l)) }
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w)
          if (i >= 0) waiters.splice(i, 1)
          const tail = lines.slice(-15).map((l) => `  ${l.text}`).join('\n')
          reject(new Error(`no line matching ${String(re)} within ${timeoutMs} ms; last lines:\n${tail}`))
        }, timeoutMs)
        waiters.push(w)
      })
    },
    kill(signal = 'SIGTERM') {
      sub.kill(signal)
    },
    exited,
  }
}

/** Copy a directory tree preserving owners and modes (cp -a). */
async function copyTree(from: string, to: string): Promise<void> {
  await must('cp', ['-a', from, to])
}

export async function createKit(prefix: string): Promise<Kit> {
  if (!/^[a-z][a-z0-9]{1,10}$/.test(prefix)) throw new Error(`kit prefix ${JSON.stringify(prefix)}: use 2-11 lowercase letters/digits`)
  await cleanupStale(prefix)
  const switchNs = `${prefix}-sw`
  const namespaces: string[] = []
  const dirs: string[] = []
  const procs: ResultPromise[] = []
  const hosts: Host[] = []
  let destroyed = false

  await must('ip', ['netns', 'add', switchNs])
  namespaces.push(switchNs)
  await must('ip', ['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge'])
  // Forward at once: no STP listening delay on the ports.
  await must('ip', ['-n', switchNs, 'link', 'set', 'br0', 'type', 'bridge', 'forward_delay', '0'])
  await must('ip', ['-n', switchNs, 'link', 'set', 'br0', 'up'])

  async function addHost(spec: HostSpec): Promise<Host> {
    if (destroyed) throw new Error('kit destroyed')
    if (!/^[a-z0-9]{1,8}$/.test(spec.name)) throw new Error(`host name ${JSON.stringify(spec.name)}: 1-8 lowercase letters/digits`)
    const ns = `${prefix}-${spec.name}`
    const port = `p${hosts.length}`
    const hostname = spec.hostname ?? spec.name
    const ip = spec.address.split('/')[0] ?? spec.address

    await must('ip', ['netns', 'add', ns])
    namespaces.push(ns)
    // The veth is made inside the switch namespace and its peer moved straight into the host:
    // the root namespace never sees either end.
    await must('ip', ['-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    await must('ip', ['-n', switchNs, 'link', 'set', port, 'master', 'br0', 'up'])
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    await must('ip', ['-n', ns, 'addr', 'add', spec.address, 'broadcast', '+', 'dev', 'eth0'])
    await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])

    // The node's filesystem: a copy of the installed /etc/ha.d (harc, rc.d, resource.d,
    // shellfuncs) and /var/lib/heartbeat skeleton, fresh /run and /var/log.
    const root = await mkdtemp(join(tmpdir(), `${prefix}-${spec.name}-`))
    dirs.push(root)
    await mkdir(join(root, 'etc'), { recursive: true })
    await mkdir(join(root, 'var', 'lib'), { recursive: true })
    await mkdir(join(root, 'var', 'log'), { recursive: true })
    for (const d of ['heartbeat/ccm', 'heartbeat/crm', 'heartbeat/dopd', 'lock', 'resource-agents', 'crm']) {
      await mkdir(join(root, 'run', d), { recursive: true })
    }
    await run('chown', ['-R', 'hacluster:haclient', join(root, 'run', 'heartbeat')])
    await chmod(join(root, 'run', 'heartbeat'), 0o750)
    try {
      await copyTree('/etc/ha.d', join(root, 'etc', 'ha.d'))
    } catch {
      await mkdir(join(root, 'etc', 'ha.d', 'resource.d'), { recursive: true })
    }
    try {
      await copyTree('/var/lib/heartbeat', join(root, 'var', 'lib', 'heartbeat'))
    } catch {
      await mkdir(join(root, 'var', 'lib', 'heartbeat'), { recursive: true })
    }
    for (const f of ['hb_generation', 'hb_uuid', 'hostcache', 'delhostcache', 'fifo']) {
      await rm(join(root, 'var', 'lib', 'heartbeat', f), { force: true })
    }

    const holderSub = execa('ip', ['netns', 'exec', ns, 'unshare', '--uts', '--mount', '--propagation', 'private', '--', holderScript, root, hostname], {
      reject: false,
      stdin: 'ignore',
    })
    procs.push(holderSub)
    const holder = track(holderSub)
    await holder.waitForLine(/^ready$/, CMD_TIMEOUT_MS)
    const holderPid = holderSub.pid
    if (holderPid === undefined) throw new Error(`host ${spec.name}: holder has no pid`)
    const enter = (argv: readonly string[]): string[] => ['-t', String(holderPid), '-n', '-u', '-m', '--', ...argv]

    const host: Host = {
      name: spec.name,
      ns,
      hostname,
      ip,
      ifname: 'eth0',
      root,
      async exec(argv, opts) {
        const r = await execa('nsenter', enter(argv), {
          reject: false,
          timeout: opts?.timeoutMs ?? CMD_TIMEOUT_MS,
          stdin: 'ignore',
          cwd: '/',
          ...(opts?.env ? { env: opts.env } : {}),
        })
        return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? -1 }
      },
      spawn(argv, opts) {
        const sub = execa('nsenter', enter(argv), {
          reject: false,
          stdin: 'ignore',
          cwd: '/',
          buffer: false,
          ...(opts?.env ? { env: opts.env } : {}),
        })
        procs.push(sub)
        return track(sub)
      },
      async linkDown() {
        await must('ip', ['-n', switchNs, 'link', 'set', port, 'down'])
      },
      async linkUp() {
        await must('ip', ['-n', switchNs, 'link', 'set', port, 'up'])
      },
      async setLoss(percent) {
        await host.clearLoss()
        const netem = await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'loss', `${percent}%`])
        if (netem.exitCode === 0) return 'netem'
        // This kernel has no sch_netem (CONFIG_NET_SCH_NETEM unset): drop the same share of
        // outgoing UDP with nftables' random number generator instead.
        const rules = [
          'table inet hbkloss {',
          '  chain out {',
          '    type filter hook output priority 0; policy accept;',
          percent >= 100
            ? '    oifname "eth0" meta l4proto udp drop'
            : `    oifname "eth0" meta l4proto udp numgen random mod 100 < ${Math.round(percent)} drop`,
          '  }',
          '}',
          '',
        ].join('\n')
        const file = join(root, 'loss.nft')
        await writeFile(file, rules)
        await must('ip', ['netns', 'exec', ns, 'nft', '-f', file])
        return 'nft'
      },
      async clearLoss() {
        await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root'])
        await run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'hbkloss'])
      },
      async killAll(signal = 'SIGKILL') {
        const pids = (await netnsPids(ns)).filter((p) => p !== holderPid)
        // All at once, like a crash: nobody gets to react to another's death first.
        return pids.filter((p) => killQuietly(p, signal))
      },
      async writeFile(rel, content, mode) {
        const file = join(root, rel)
        await mkdir(dirname(file), { recursive: true })
        await writeFile(file, content)
        if (mode !== undefined) await chmod(file, mode)
      },
      async readFile(rel) {
        return readFile(join(root, rel))
      },
      async startRealHeartbeat() {
        return host.exec([REAL_HEARTBEAT])
      },
      async clStatus(args) {
        return host.exec(['cl_status', ...args], { timeoutMs: 15_000 })
      },
    }
    hosts.push(host)
    return host
  }

  async function destroy(): Promise<void> {
    if (destroyed) return
    destroyed = true
    for (const p of procs) p.kill('SIGKILL')
    for (const ns of namespaces.slice().reverse()) await removeNamespace(ns)
    for (const p of procs) await p.catch(() => undefined)
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }

  return { prefix, addHost, destroy }
}

/** Poll `probe` every intervalMs until it returns a value (not undefined) or timeoutMs passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last })
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** A built file under dist/ (namespace children run compiled JS); a clear error if not built. */
export async function distFile(rel: string): Promise<string> {
  const file = join(repoRoot, 'dist', rel)
  try {
    await access(file, constants.R_OK)
  } catch {
    throw new Error(`${file} is missing: run \`npm run build\` before the namespace tests`)
  }
  return file
}
