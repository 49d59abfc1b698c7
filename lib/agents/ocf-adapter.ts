// Our IPaddr and lvs agents as OCF resource agents (resource.d/ocf/*): OCF_RESKEY_* parameters in, OCF exit codes out.

import { parseIpaddrSpec } from '../config/ipaddr-spec.js'
import { runIpaddr, type AgentResult } from './ipaddr.js'
import { lvsOptions } from './agent-options.js'
import { loadDesiredTable, runLvs } from './lvs.js'
import { parseLvsArgs } from './lvs-table.js'
import type { MonitorHook } from './lvs-monitor-types.js'

type Env = Readonly<Record<string, string | undefined>>

/** OCF Resource Agent API exit codes. */
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
} as const

const ACTIONS = ['start', 'stop', 'monitor', 'validate-all', 'meta-data', 'usage']

function param(env: Env, name: string): string | undefined {
  const v = env[`OCF_RESKEY_${name}`]
  return v === undefined || v === '' ? undefined : v
}

function reply(exitCode: number, stdout = '', stderr = ''): AgentResult {
  return { exitCode, stdout, stderr }
}

interface ParamDoc {
  name: string
  required?: boolean
  unique?: boolean
  short: string
  long: string
  type?: 'string' | 'integer'
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function metadata(name: string, short: string, long: string, params: readonly ParamDoc[]): string {
  const p = params.map((d) => [
    `<parameter name="${d.name}" unique="${d.unique === true ? 1 : 0}" required="${d.required === true ? 1 : 0}">`,
    `<longdesc lang="en">${xml(d.long)}</longdesc>`,
    `<shortdesc lang="en">${xml(d.short)}</shortdesc>`,
    `<content type="${d.type ?? 'string'}"/>`,
    '</parameter>',
  ].join('\n'))
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">',
    `<resource-agent name="${name}" version="1.0">`,
    '<version>1.0</version>',
    `<longdesc lang="en">${xml(long)}</longdesc>`,
    `<shortdesc lang="en">${xml(short)}</shortdesc>`,
    '<parameters>',
    ...p,
    '</parameters>',
    '<actions>',
    '<action name="start" timeout="60s"/>',
    '<action name="stop" timeout="60s"/>',
    '<action name="monitor" timeout="20s" interval="10s" depth="0"/>',
    '<action name="validate-all" timeout="20s"/>',
    '<action name="meta-data" timeout="5s"/>',
    '</actions>',
    '</resource-agent>',
    '',
  ].join('\n')
}

export const IPADDR_METADATA = metadata(
  'IPaddr',
  'heartbeat-ts IPaddr: a VIP that moves between lo:0 (real server) and the NIC (director)',
  'The IPaddr agent of heartbeat-ts as an OCF agent. start brings the address up on the interface that routes it ' +
    '(or nic), moving it off lo:0 first when the node was a real server with ARP suppressed, and sends gratuitous ARP; ' +
    'stop puts it back on lo:0 if it came from there. Parameters as resource-agents IPaddr2.',
  [
    { name: 'ip', required: true, unique: true, short: 'IPv4 address', long: 'The virtual IPv4 address, dotted quad (e.g. 129.254.203.149).' },
    { name: 'cidr_netmask', short: 'Netmask', long: 'Prefix length (24) or dotted netmask (255.255.255.0). Default: that of the route to ip.' },
    { name: 'nic', short: 'Interface', long: 'Base interface (eth0). Default: the interface of the route to ip. Needs cidr_netmask.' },
    { name: 'broadcast', short: 'Broadcast address', long: 'Broadcast address. Default: computed from the netmask.' },
  ],
)

export const LVS_METADATA = metadata(
  'lvs',
  'heartbeat-ts lvs: the IPVS virtual service table and its mon-driven real-server monitor',
  'The lvs agent of heartbeat-ts as an OCF agent. start turns forwarding on, builds the IPVS table with ipvsadm and ' +
    'starts the real-server monitor when mon.cf exists; stop removes them; monitor checks the table. The table comes ' +
    'from service/scheduler/real_servers, else rules_file (ipvsadm -S format), else the lvs.alert lines of mon_cf.',
  [
    { name: 'service', short: 'Virtual service', long: '[tcp/|udp/]VIP:PORT of the virtual service.' },
    { name: 'scheduler', short: 'Scheduler', long: 'IPVS scheduler (wlc, rr, ...). Required with service.' },
    { name: 'real_servers', short: 'Real servers', long: 'Comma-separated addr[:port][@weight] list. Required with service.' },
    { name: 'forwarding', short: 'Forwarding', long: 'dr (default), nat or tun.' },
    { name: 'rules_file', short: 'ipvsadm rules file', long: 'An ipvsadm -S -n file used when service is not set. Default /etc/ha.d/ipvsadm.rules.' },
    { name: 'mon_cf', short: 'mon.cf', long: 'mon.cf for the real-server monitor (and the table when nothing else gives one). Default /etc/mon/mon.cf.' },
  ],
)

/** OCF_RESKEY_ip/cidr_netmask/nic/broadcast → the haresources spec `ip[/cidr[/nic][/bcast]]`. */
export function ipaddrSpecFromOcf(env: Env): { ok: true; spec: string } | { ok: false; message: string } {
  const ip = param(env, 'ip')
  const cidr = param(env, 'cidr_netmask')
  const nic = param(env, 'nic')
  const broadcast = param(env, 'broadcast')
  if (ip === undefined) return { ok: false, message: 'parameter ip is required' }
  // the spec is positional: nic and broadcast only after a netmask
  if (cidr === undefined && (nic !== undefined || broadcast !== undefined)) return { ok: false, message: 'nic and broadcast need cidr_netmask' }
  const spec = [ip, cidr, nic, broadcast].filter((p) => p !== undefined).join('/')
  const parsed = parseIpaddrSpec(spec)
  if (!parsed.ok) return { ok: false, message: parsed.message }
  if (nic === undefined && broadcast !== undefined) return { ok: false, message: 'broadcast needs nic' }
  return { ok: true, spec }
}

/** The built-in agent's exit code as OCF's for `action`. */
function mapExit(action: string, builtin: number): number {
  if (action === 'monitor') return builtin === 0 ? OCF.SUCCESS : builtin === 7 || builtin === 3 ? OCF.NOT_RUNNING : OCF.ERR_GENERIC
  if (builtin === 0) return OCF.SUCCESS
  return builtin === OCF.ERR_CONFIGURED ? OCF.ERR_CONFIGURED : OCF.ERR_GENERIC
}

function common(action: string, meta: string): AgentResult | undefined {
  if (action === 'meta-data') return reply(OCF.SUCCESS, meta)
  if (action === 'usage') return reply(OCF.SUCCESS, `usage: {${ACTIONS.join('|')}}\n`)
  if (!ACTIONS.includes(action)) return reply(OCF.ERR_UNIMPLEMENTED, '', `unsupported action ${JSON.stringify(action)}\n`)
  return undefined
}

export async function runOcfIpaddr(action: string, env: Env): Promise<AgentResult> {
  const early = common(action, IPADDR_METADATA)
  if (early !== undefined) return early
  const spec = ipaddrSpecFromOcf(env)
  if (!spec.ok) {
    const err = `ERROR: IPaddr: ${spec.message}\n`
    // a stop or probe of something never configured is not a failure of the node
    if (action === 'stop') return reply(OCF.SUCCESS, '', err)
    if (action === 'monitor') return reply(OCF.NOT_RUNNING, '', err)
    return reply(OCF.ERR_CONFIGURED, '', err)
  }
  if (action === 'validate-all') return reply(OCF.SUCCESS)
  const r = await runIpaddr([spec.spec], action, { ...env })
  return { ...r, exitCode: mapExit(action, r.exitCode) }
}

/** OCF_RESKEY_service/scheduler/real_servers/forwarding → lvs's `VIP:PORT::SCHED::REALS[::fwd]` arguments. */
export function lvsArgsFromOcf(env: Env): { ok: true; args: string[] } | { ok: false; message: string } {
  const service = param(env, 'service')
  const scheduler = param(env, 'scheduler')
  const reals = param(env, 'real_servers')
  const forwarding = param(env, 'forwarding')
  if (service === undefined) {
    if (scheduler !== undefined || reals !== undefined || forwarding !== undefined) return { ok: false, message: 'scheduler, real_servers and forwarding need service' }
    return { ok: true, args: [] }
  }
  if (scheduler === undefined || reals === undefined) return { ok: false, message: 'service needs scheduler and real_servers' }
  const args = [service, scheduler, reals, ...(forwarding !== undefined ? [forwarding] : [])]
  const t = parseLvsArgs(args)
  return t.ok ? { ok: true, args } : { ok: false, message: t.message }
}

/** rules_file and mon_cf as the built-in agent's environment. */
function lvsEnv(env: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env }
  const rules = param(env, 'rules_file')
  const mon = param(env, 'mon_cf')
  if (rules !== undefined) out.HBTS_LVS_RULES = rules
  if (mon !== undefined) out.HBTS_MON_CF = mon
  return out
}

export async function runOcfLvs(action: string, env: Env, monitor: MonitorHook): Promise<AgentResult> {
  const early = common(action, LVS_METADATA)
  if (early !== undefined) return early
  const args = lvsArgsFromOcf(env)
  const agentEnv = lvsEnv(env)
  if (!args.ok) {
    const err = `ERROR: lvs: ${args.message}\n`
    if (action === 'stop') return reply(OCF.SUCCESS, '', err)
    if (action === 'monitor') return reply(OCF.NOT_RUNNING, '', err)
    return reply(OCF.ERR_CONFIGURED, '', err)
  }
  if (action === 'validate-all') {
    const table = await loadDesiredTable(args.args, lvsOptions(agentEnv))
    return table.ok ? reply(OCF.SUCCESS) : reply(OCF.ERR_CONFIGURED, '', `ERROR: lvs: ${table.message}\n`)
  }
  const r = await runLvs(args.args, action === 'monitor' ? 'status' : action, agentEnv, { monitor })
  return { ...r, exitCode: mapExit(action, r.exitCode) }
}
