// The IPaddr resource agent: `IPaddr <ip[/cidr[/nic][/bcast]]> start|stop|status|monitor`, run in-process or from resource.d/IPaddr.

import { constants } from 'node:fs'
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeFailure, run, spawnDetached } from './agent-exec.js'
import { ipaddrOptions, type IpaddrOptions } from './agent-options.js'
import { ARP_ANNOUNCE_KEY, ARP_IGNORE_KEY, type ArpSysctls } from './arp-suppression.js'
import { arpSchedule, splitFirstPair } from './gratuitous-arp.js'
import { parseIpSpec, type IpSpec } from './ip-spec.js'
import { parseIpAddrJson, parseIpRouteJson, type IfAddr, type Link, type Parsed, type Route } from './ip-state.js'
import { planStart, planStatus, planStop, type HostView, type IpaddrStep, type LoRecord } from './ipaddr-plan.js'

export type Env = Readonly<Record<string, string | undefined>>

export interface AgentResult {
  exitCode: number
  stdout: string
  stderr: string
}

const USAGE = 'usage: IPaddr ip-address[/netmaskbits[/interface][/broadcast]] {start|stop|status|monitor}'

interface Ctx extends IpaddrOptions {
  /** For the child processes only: the agent's options were read from it once (agent-options.ts). */
  env: Env
  /** The runner's cancellation at the agent's timeout: no further step, helpers killed. */
  signal: AbortSignal | undefined
  out: string[]
  err: string[]
}

function context(env: Env, signal: AbortSignal | undefined): Ctx {
  return { ...ipaddrOptions(env), env, signal, out: [], err: [] }
}

function result(ctx: Ctx, exitCode: number): AgentResult {
  const join = (lines: string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`)
  return { exitCode, stdout: join(ctx.out), stderr: join(ctx.err) }
}

export async function runIpaddr(args: string[], op: string, env: Record<string, string | undefined>, signal?: AbortSignal): Promise<AgentResult> {
  const ctx = context(env, signal)
  if (args.length !== 1 || args[0] === undefined) {
    ctx.err.push(USAGE)
    return result(ctx, 1)
  }
  if (!['start', 'stop', 'status', 'monitor'].includes(op)) {
    ctx.err.push(`IPaddr: unknown operation ${JSON.stringify(op)}`, USAGE)
    return result(ctx, 3)
  }
  const parsed = parseIpSpec(args[0])
  if (!parsed.ok) {
    ctx.err.push(`ERROR:  IPaddr ${parsed.message}`)
    // OCF_ERR_CONFIGURED for a malformed address on start; stop/status answer "not here".
    if (op === 'stop') return result(ctx, 0)
    if (op === 'status' || op === 'monitor') {
      ctx.out.push('INFO:  Resource is stopped')
      return result(ctx, 7)
    }
    return result(ctx, 6)
  }
  const spec = parsed.spec
  if (op === 'status' || op === 'monitor') {
    const links = await readLinks(ctx)
    if (!links.ok) {
      ctx.err.push(`ERROR:  IPaddr ${links.message}`)
      return result(ctx, 1)
    }
    const answer = planStatus(spec, links.value, op)
    ctx.out.push(answer.stdout)
    return result(ctx, answer.exitCode)
  }
  // All four reads at once: on a takeover each `ip` run is a process start on the critical path.
  const [links, routes, arpSysctls, loRecord] = await Promise.all([readLinks(ctx), readRoutes(ctx), readArpSysctls(ctx), readLoRecord(ctx, spec)])
  if (!links.ok) {
    ctx.err.push(`ERROR:  IPaddr ${links.message}`)
    return result(ctx, 1)
  }
  if (!routes.ok) {
    ctx.err.push(`ERROR:  IPaddr ${routes.message}`)
    return result(ctx, 1)
  }
  const host: HostView = { links: links.value, routes: routes.value, arpSysctls }
  if (loRecord !== undefined) host.loRecord = loRecord
  const plan = op === 'start' ? planStart(spec, host) : planStop(spec, host)
  if (!plan.ok) {
    ctx.err.push(`ERROR:  IPaddr ${plan.message}`)
    return result(ctx, plan.exitCode)
  }
  const failed = await execute(ctx, spec, plan.steps)
  if (failed !== undefined) {
    ctx.err.push(`ERROR:  IPaddr ${spec.ip} ${op} failed: ${failed}`)
    ctx.out.push(`ERROR:  IPaddr ${op} of ${spec.ip} failed`)
    return result(ctx, 1)
  }
  ctx.err.push(`INFO:  IPaddr ${spec.ip} ${op}: ${plan.note}`)
  ctx.out.push('INFO:  Success')
  return result(ctx, 0)
}

async function readLinks(ctx: Ctx): Promise<Parsed<Link[]>> {
  const o = await run(ctx.ipCmd, ['-j', '-4', 'addr', 'show'], { env: ctx.env, ...sig(ctx) })
  if (o.exitCode !== 0 || o.failure !== undefined) return { ok: false, message: describeFailure(o) }
  const links = parseIpAddrJson(o.stdout.trim())
  if (!links.ok || !ctx.dryRun) return links
  return { ok: true, value: overlayDryRun(links.value, await readDryRecord(ctx)) }
}

/*
 * HBTS_DRY_RUN=1 (isDryRun): every `ip`, sysctl, hook and gratuitous-ARP step is printed as
 * `DRY RUN: …` on stderr instead of being carried out. What the steps would have added or removed is
 * kept in <state dir>/dry-run.json and laid over the host's real addresses, so status, a second start
 * and stop answer as if the changes had been made.
 */

interface DryAddr {
  ifname: string
  addr: IfAddr
}

interface DryRecord {
  added: DryAddr[]
  removed: Array<{ ifname: string; ip: string }>
}

function dryRecordPath(ctx: Ctx): string {
  return join(ctx.stateDir, 'dry-run.json')
}

async function readDryRecord(ctx: Ctx): Promise<DryRecord> {
  try {
    const v = JSON.parse(await readFile(dryRecordPath(ctx), 'utf8')) as Partial<DryRecord>
    return { added: Array.isArray(v.added) ? v.added : [], removed: Array.isArray(v.removed) ? v.removed : [] }
  } catch {
    return { added: [], removed: [] }
  }
}

function overlayDryRun(links: Link[], rec: DryRecord): Link[] {
  return links.map((l) => ({
    ...l,
    addrs: [
      ...l.addrs.filter((a) => !rec.removed.some((r) => r.ifname === l.ifname && r.ip === a.ip)),
      ...rec.added.filter((d) => d.ifname === l.ifname).map((d) => d.addr),
    ],
  }))
}

/** Record what `ip addr add|del …` would have done (the argv shapes ipaddr-plan produces). */
async function recordDryIp(ctx: Ctx, argv: readonly string[]): Promise<void> {
  const [obj, verb, cidr] = argv
  const dev = argv[argv.indexOf('dev') + 1]
  if (obj !== 'addr' || cidr === undefined || dev === undefined || argv.indexOf('dev') < 0) return
  const [ip = '', len = '32'] = cidr.split('/')
  const rec = await readDryRecord(ctx)
  rec.added = rec.added.filter((d) => !(d.ifname === dev && d.addr.ip === ip))
  rec.removed = rec.removed.filter((r) => !(r.ifname === dev && r.ip === ip))
  if (verb === 'add') {
    const label = argv.includes('label') ? (argv[argv.indexOf('label') + 1] ?? dev) : dev
    const brd = argv.includes('brd') ? argv[argv.indexOf('brd') + 1] : undefined
    rec.added.push({ ifname: dev, addr: { ip, prefixLen: Number(len), label, ...(brd !== undefined ? { broadcast: brd } : {}) } })
  } else if (verb === 'del') rec.removed.push({ ifname: dev, ip })
  await mkdir(ctx.stateDir, { recursive: true, mode: 0o700 })
  await writeFile(dryRecordPath(ctx), `${JSON.stringify(rec)}\n`)
}

/** A step as the dry run prints it. */
function dryLine(step: IpaddrStep, ctx: Ctx): string | undefined {
  switch (step.type) {
    case 'ip':
      return `ip ${step.argv.join(' ')}    # ${step.why}`
    case 'sysctl':
      return `sysctl -w ${step.write.key.replaceAll('/', '.')}=${step.write.value}    # ${step.write.why}`
    case 'hook':
      return `${join(ctx.rcDir, step.name)} ${step.arg}    # if present`
    case 'arp-start':
      return `${ctx.arpingCmd} -U/-A -I ${step.nic} ${step.ip}    # ${ctx.arpPacing.pairs} gratuitous request+reply pairs every ${ctx.arpPacing.intervalMs} ms`
    case 'arp-stop':
      return undefined
    case 'save-lo':
    case 'forget-lo':
      return undefined
  }
}

async function readRoutes(ctx: Ctx): Promise<Parsed<Route[]>> {
  const o = await run(ctx.ipCmd, ['-j', '-4', 'route', 'show', 'table', 'main'], { env: ctx.env, ...sig(ctx) })
  if (o.exitCode !== 0 || o.failure !== undefined) return { ok: false, message: describeFailure(o) }
  return parseIpRouteJson(o.stdout.trim())
}

async function readSysctl(ctx: Ctx, key: string): Promise<number> {
  try {
    const n = Number.parseInt((await readFile(join(ctx.procSys, key), 'utf8')).trim(), 10)
    return Number.isFinite(n) ? n : 0
  } catch {
    return 0
  }
}

async function readArpSysctls(ctx: Ctx): Promise<ArpSysctls> {
  const [arpIgnore, arpAnnounce] = await Promise.all([readSysctl(ctx, ARP_IGNORE_KEY), readSysctl(ctx, ARP_ANNOUNCE_KEY)])
  return { arpIgnore, arpAnnounce }
}

function loRecordPath(ctx: Ctx, ip: string): string {
  return join(ctx.stateDir, `lo-${ip}.json`)
}

function arpPidPath(ctx: Ctx, ip: string): string {
  return join(ctx.stateDir, `arp-${ip}.pid`)
}

async function readLoRecord(ctx: Ctx, spec: IpSpec): Promise<LoRecord | undefined> {
  let text: string
  try {
    text = await readFile(loRecordPath(ctx, spec.ip), 'utf8')
  } catch {
    return undefined
  }
  try {
    const v: unknown = JSON.parse(text)
    if (typeof v === 'object' && v !== null) {
      const r = v as Record<string, unknown>
      if (r.ip === spec.ip && typeof r.label === 'string' && typeof r.prefixLen === 'number') return { ip: spec.ip, label: r.label, prefixLen: r.prefixLen }
    }
  } catch {
    // fall through: a damaged record still means "it was on lo"
  }
  ctx.err.push(`WARN:  IPaddr ${loRecordPath(ctx, spec.ip)}: unreadable swap record; assuming ${spec.ip} came from lo:0`)
  return { ip: spec.ip, label: 'lo:0', prefixLen: 32 }
}

function sig(ctx: Ctx): { signal?: AbortSignal } {
  return ctx.signal === undefined ? {} : { signal: ctx.signal }
}

async function execute(ctx: Ctx, spec: IpSpec, steps: readonly IpaddrStep[]): Promise<string | undefined> {
  for (const step of steps) {
    if (ctx.signal?.aborted) return `cancelled before ${step.type}: the agent timed out`
    if (ctx.dryRun && step.type !== 'save-lo' && step.type !== 'forget-lo') {
      const line = dryLine(step, ctx)
      if (line !== undefined) ctx.err.push(`DRY RUN: ${line}`)
      if (step.type === 'ip') await recordDryIp(ctx, step.argv)
      continue
    }
    switch (step.type) {
      case 'ip': {
        const o = await run(ctx.ipCmd, step.argv, { env: ctx.env, ...sig(ctx) })
        if (o.exitCode !== 0 || o.failure !== undefined) return `${step.why}: ${describeFailure(o)}`
        ctx.err.push(`INFO:  IPaddr ${step.why}: ip ${step.argv.join(' ')}`)
        break
      }
      case 'hook':
        await runHook(ctx, step.name, step.arg)
        break
      case 'sysctl':
        try {
          await writeFile(join(ctx.procSys, step.write.key), `${step.write.value}\n`)
          ctx.err.push(`INFO:  IPaddr ${step.write.key.replaceAll('/', '.')}=${step.write.value} (${step.write.why})`)
        } catch (err) {
          // Never put the address on lo if ARP for it cannot be suppressed: it would steal the service.
          return `cannot write ${join(ctx.procSys, step.write.key)} (${(err as Error).message}); ${spec.ip} left off lo`
        }
        break
      case 'save-lo':
        await mkdir(ctx.stateDir, { recursive: true, mode: 0o700 })
        await writeFile(loRecordPath(ctx, spec.ip), `${JSON.stringify(step.record)}\n`)
        break
      case 'forget-lo':
        await rm(loRecordPath(ctx, spec.ip), { force: true })
        break
      case 'arp-start':
        await startArp(ctx, step.nic, step.ip)
        break
      case 'arp-stop':
        await stopArp(ctx, step.ip)
        break
      default:
        return assertNever(step)
    }
  }
  return undefined
}

function assertNever(x: never): never {
  throw new Error(`unhandled step ${JSON.stringify(x)}`)
}

async function runHook(ctx: Ctx, name: string, arg: string): Promise<void> {
  const path = join(ctx.rcDir, name)
  try {
    await access(path, constants.X_OK)
  } catch {
    return
  }
  // heartbeat 1.x IPaddr: the hook gets the raw spec; its result is only logged.
  const o = await run(path, [arg], { timeoutMs: 30_000, env: ctx.env, ...sig(ctx) })
  if (o.exitCode !== 0 || o.failure !== undefined) ctx.err.push(`WARN:  IPaddr hook ${describeFailure(o)}`)
  else ctx.err.push(`INFO:  IPaddr ran ${path} ${arg}`)
}

const ARP_BURST = fileURLToPath(new URL('./arp-burst.js', import.meta.url))

async function startArp(ctx: Ctx, nic: string, ip: string): Promise<void> {
  if (ctx.arpPacingProblem !== undefined) ctx.err.push(`WARN:  IPaddr ${ctx.arpPacingProblem}; using heartbeat's 10 pairs at 500 ms`)
  const p = ctx.arpPacing
  if (p.pairs === 0) return
  const originEpochMs = Date.now()
  const { now, later } = splitFirstPair(arpSchedule(nic, ip, p))
  // The first pair straight from here, not awaited: a helper's Node start-up would hold the
  // takeover's first frame back by ~100-200 ms. Own process groups, so stop can end them.
  const pids: number[] = []
  for (const send of now) {
    const s = spawnDetached(ctx.arpingCmd, send.argv, ctx.env)
    if (s.ok) pids.push(s.pid)
    else ctx.err.push(`WARN:  IPaddr gratuitous ARP not sent: ${s.message}`)
  }
  if (later.length > 0) {
    const s = spawnDetached(process.execPath, [ARP_BURST, ctx.arpingCmd, nic, ip, String(p.pairs), String(p.intervalMs), '1', String(originEpochMs)], ctx.env)
    if (s.ok) pids.unshift(s.pid)
    else ctx.err.push(`WARN:  IPaddr gratuitous ARP pairs 2-${p.pairs} not sent: ${s.message}`)
  }
  if (pids.length === 0) return
  await mkdir(ctx.stateDir, { recursive: true, mode: 0o700 })
  await writeFile(arpPidPath(ctx, ip), `${pids.join('\n')}\n`)
  ctx.err.push(`INFO:  IPaddr gratuitous ARP for ${ip} on ${nic}: first request+reply sent, ${p.pairs - 1} more pairs every ${p.intervalMs} ms in the background (pids ${pids.join(' ')})`)
}

async function stopArp(ctx: Ctx, ip: string): Promise<void> {
  let text: string
  try {
    text = await readFile(arpPidPath(ctx, ip), 'utf8')
  } catch {
    return
  }
  // The pacer and the first pair's arpings (they outlive start: arping lingers a second).
  for (const line of text.split('\n')) {
    const pid = Number(line.trim())
    if (!Number.isInteger(pid) || pid <= 1) continue
    // Only a pid that is still our burst for this address: pids are reused.
    let cmdline = ''
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ')
    } catch {
      continue
    }
    if (!cmdline.includes(ip) || !(cmdline.includes('arp-burst') || cmdline.includes(ctx.arpingCmd))) continue
    try {
      process.kill(-pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  await rm(arpPidPath(ctx, ip), { force: true })
}
