// The ipvsadm stand-in's output: -L listings and -S save lines as ipvsadm 1.31 prints them, and its usage text.

import { ipNum, PORT_NAMES, type Fwd, type Proto } from './ipvsadm-standin-args.js'
import type { Dest, Service, StandinState } from './ipvsadm-standin-table.js'

const NAME_OF_PORT = new Map(Object.entries(PORT_NAMES).map(([k, v]) => [v, k]))

const PROTO_NUM: Record<Proto, number> = { tcp: 6, udp: 17, sctp: 132 }

export function sortedServices(state: StandinState): Service[] {
  return [...state.services].sort((a, b) => a.fwmark - b.fwmark || PROTO_NUM[a.proto] - PROTO_NUM[b.proto] || ipNum(a.addr) - ipNum(b.addr) || a.port - b.port)
}

function sortedDests(s: Service): Dest[] {
  return [...s.dests].sort((a, b) => ipNum(a.addr) - ipNum(b.addr) || a.port - b.port)
}

function hostPort(addr: string, port: number, numeric: boolean): string {
  // Without -n real ipvsadm resolves names; the stand-in shows addresses and names only well-known ports.
  return `${addr}:${numeric ? port : (NAME_OF_PORT.get(port) ?? port)}`
}

function serviceText(s: Service, numeric: boolean): string {
  let line = s.fwmark !== 0 ? `FWM  ${s.fwmark} ${s.sched}` : `${s.proto.toUpperCase().padEnd(4)} ${hostPort(s.addr, s.port, numeric).slice(0, 33)} ${s.sched}`
  if (s.schedFlags !== undefined) line += ` (${s.schedFlags})`
  if (s.persistent !== undefined) {
    line += ` persistent ${s.persistent}`
    if (s.netmask !== '255.255.255.255') line += ` mask ${s.netmask}`
    if (s.pe !== undefined) line += ` pe ${s.pe}`
  }
  if (s.ops) line += ' ops'
  return line
}

const FWD_NAME: Record<Fwd, string> = { dr: 'Route', nat: 'Masq', tun: 'Tunnel' }
const FWD_FLAG: Record<Fwd, string> = { dr: '-g', nat: '-m', tun: '-i' }

export function listLines(services: Service[], numeric: boolean, local: ReadonlySet<string>): string[] {
  const out: string[] = []
  for (const s of services) {
    out.push(serviceText(s, numeric))
    for (const d of sortedDests(s)) {
      const fwd = local.has(d.addr) ? 'Local' : FWD_NAME[d.fwd]
      out.push(`  -> ${hostPort(d.addr, d.port, numeric).slice(0, 28).padEnd(28)} ${fwd.padEnd(7)} ${String(d.weight).padEnd(6)} ${'0'.padEnd(10)} ${'0'.padEnd(10)}`)
    }
  }
  return out
}

export const TITLE = ['Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn']

export function saveLines(state: StandinState, numeric: boolean): string[] {
  const out: string[] = []
  for (const s of sortedServices(state)) {
    const words = s.fwmark !== 0 ? ['-f', String(s.fwmark)] : [s.proto === 'tcp' ? '-t' : s.proto === 'udp' ? '-u' : '--sctp-service', hostPort(s.addr, s.port, numeric)]
    let line = `-A ${words.join(' ')} -s ${s.sched}`
    if (s.persistent !== undefined) {
      line += ` -p ${s.persistent}`
      if (s.netmask !== '255.255.255.255') line += ` -M ${s.netmask}`
      if (s.pe !== undefined) line += ` --pe ${s.pe}`
    }
    if (s.ops) line += ' -o'
    if (s.schedFlags !== undefined) line += ` -b ${s.schedFlags}`
    out.push(line)
    for (const d of sortedDests(s)) out.push(`-a ${words.join(' ')} -r ${hostPort(d.addr, d.port, numeric)} ${FWD_FLAG[d.fwd]} -w ${d.weight}`)
  }
  return out
}

export const USAGE_TEXT = `ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1) [heartbeat-ts test stand-in]
Usage:
  ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ipvsadm -D virtual-service
  ipvsadm -C
  ipvsadm -R
  ipvsadm -S [-n]
  ipvsadm -a|e virtual-service -r server-address [options]
  ipvsadm -d virtual-service -r server-address
  ipvsadm -L|l [virtual-service] [options]
  ipvsadm -Z [virtual-service]
  ipvsadm --set tcp tcpfin udp
  ipvsadm --start-daemon {master|backup} [daemon-options]
  ipvsadm --stop-daemon {master|backup}
  ipvsadm -h
`
