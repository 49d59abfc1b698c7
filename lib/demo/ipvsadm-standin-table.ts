// The ipvsadm stand-in's "kernel": the virtual server table and what each command does to it.

import type { Entry, Fwd, Proto } from './ipvsadm-standin-args.js'

export interface Dest {
  addr: string
  port: number
  fwd: Fwd
  weight: number
  uthresh: number
  lthresh: number
}

export interface Service {
  proto: Proto
  addr: string
  port: number
  /** fwmark services have no address (0.0.0.0) and port 0. */
  fwmark: number
  sched: string
  persistent?: number
  netmask: string
  ops: boolean
  pe?: string
  schedFlags?: string
  dests: Dest[]
}

export interface StandinState {
  services: Service[]
  timeouts: { tcp: number; tcpfin: number; udp: number }
  daemons: { state: 'master' | 'backup'; mcastIfn: string; syncid: number }[]
}

export function emptyState(): StandinState {
  return { services: [], timeouts: { tcp: 900, tcpfin: 120, udp: 300 }, daemons: [] }
}

const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'])

export function findService(state: StandinState, e: Entry): Service | undefined {
  return state.services.find((s) => (e.svc.fwmark !== 0 ? s.fwmark === e.svc.fwmark : s.fwmark === 0 && s.proto === e.svc.proto && s.addr === e.svc.addr && s.port === e.svc.port))
}

/** Applies one command to `state`: the kernel's error text, or undefined on success. */
export function kernel(state: StandinState, e: Entry): string | undefined {
  const svc = findService(state, e)
  switch (e.cmd) {
    case 'flush':
      state.services = []
      return undefined
    case 'add-service': {
      if (svc !== undefined) return 'Service already exists'
      const sched = e.svc.sched === '' ? 'wlc' : e.svc.sched
      if (!SCHEDULERS.has(sched) || (e.svc.pe !== undefined && e.svc.pe !== 'sip')) return 'Scheduler or persistence engine not found'
      const s: Service = { proto: e.svc.proto, addr: e.svc.fwmark !== 0 ? '0.0.0.0' : e.svc.addr, port: e.svc.fwmark !== 0 ? 0 : e.svc.port, fwmark: e.svc.fwmark, sched, netmask: e.svc.netmask, ops: e.svc.ops, dests: [] }
      if (e.svc.persistent !== undefined) s.persistent = e.svc.persistent
      if (e.svc.pe !== undefined) s.pe = e.svc.pe
      if (e.svc.schedFlags !== undefined) s.schedFlags = e.svc.schedFlags
      state.services.push(s)
      return undefined
    }
    case 'edit-service': {
      if (svc === undefined) return 'No such service'
      // ipvs_update_service_by_options: only what was given changes.
      if (e.opts.has('scheduler')) {
        if (!SCHEDULERS.has(e.svc.sched)) return 'Scheduler or persistence engine not found'
        svc.sched = e.svc.sched
      }
      if (e.svc.persistent !== undefined) svc.persistent = e.svc.persistent
      if (e.opts.has('netmask')) svc.netmask = e.svc.netmask
      if (e.svc.ops) svc.ops = true
      if (e.svc.pe !== undefined) svc.pe = e.svc.pe
      if (e.svc.schedFlags !== undefined) svc.schedFlags = e.svc.schedFlags
      return undefined
    }
    case 'delete-service':
      if (svc === undefined) return 'No such service'
      state.services = state.services.filter((s) => s !== svc)
      return undefined
    case 'zero':
      if (e.opts.has('service-address') && svc === undefined) return 'No such service'
      return undefined
    case 'add-server': case 'edit-server': case 'delete-server': {
      if (svc === undefined) return 'Service not defined'
      const i = svc.dests.findIndex((d) => d.addr === e.dest.addr && d.port === e.dest.port)
      if (e.cmd === 'add-server') {
        if (i >= 0) return 'Destination already exists'
        svc.dests.push({ ...e.dest })
      } else if (i < 0) return 'No such destination'
      else if (e.cmd === 'edit-server') svc.dests[i] = { ...e.dest }
      else svc.dests.splice(i, 1)
      return undefined
    }
    case 'set': {
      const [tcp, tcpfin, udp] = e.timeouts ?? [0, 0, 0]
      // 0 leaves a value unchanged.
      if (tcp !== 0) state.timeouts.tcp = tcp
      if (tcpfin !== 0) state.timeouts.tcpfin = tcpfin
      if (udp !== 0) state.timeouts.udp = udp
      return undefined
    }
    case 'start-daemon': {
      const st = e.daemon.state ?? 'master'
      if (state.daemons.some((d) => d.state === st)) return 'Device or resource busy'
      state.daemons.push({ state: st, mcastIfn: e.daemon.mcastIfn || 'eth0', syncid: e.daemon.syncid })
      return undefined
    }
    case 'stop-daemon':
      state.daemons = state.daemons.filter((d) => d.state !== e.daemon.state)
      return undefined
    default:
      return undefined
  }
}
