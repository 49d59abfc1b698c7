// What heartbeat-ts does with each ha.cf directive 3.0.6 knows: the same, differently (said on the line),
// or nothing, and then the line is refused, so that no directive is accepted and silently ignored.

import { parseBoolean } from './ha-cf-state.js'
import { API_CLIENTS } from './respawn-lines.js'

export type SupportStatus = 'as 3.0.6' | 'differs' | 'refused'

/**
 * One directive's support. `refused` lines stop the daemon and make `hbctl check` fail;
 * `refuseWhen` narrows that to some values (pacemaker on, use_apphbd on). A `differs` directive
 * whose value has no effect here says so on its line with `warning`.
 */
export type DirectiveSupport =
  | { status: 'as 3.0.6' }
  | { status: 'differs'; warning?: string; warnWhen?: (value: string) => boolean }
  | { status: 'refused'; reason: string; refuseWhen?: (value: string) => boolean }

const AS_306: DirectiveSupport = { status: 'as 3.0.6' }
const differs = (warning?: string, warnWhen?: (value: string) => boolean): DirectiveSupport =>
  warning === undefined ? { status: 'differs' } : { status: 'differs', warning, ...(warnWhen !== undefined ? { warnWhen } : {}) }
const refused = (reason: string, refuseWhen?: (value: string) => boolean): DirectiveSupport =>
  ({ status: 'refused', reason, ...(refuseWhen !== undefined ? { refuseWhen } : {}) })
const isOn = (value: string): boolean => parseBoolean(value) === true

/** A respawn line (`USER COMMAND ...`) whose program is a heartbeat API client (ccm, pingd ...). */
const API_CLIENT_LINE = (value: string): boolean => API_CLIENTS.includes(value.trim().split(/\s+/)[1]?.split('/').pop() ?? '')
const PACEMAKER_OFF = (value: string): boolean => parseBoolean(value) !== false

/** Every directive of DIRECTIVE_TABLE (config.c's table and the HBcomm media), by name. */
export const DIRECTIVE_SUPPORT: Readonly<Record<string, DirectiveSupport>> = {
  cluster: AS_306,
  node: differs(),
  hopfudge: AS_306,
  keepalive: AS_306,
  deadtime: differs(),
  deadping: AS_306,
  initdead: AS_306,
  warntime: AS_306,
  watchdog: differs('watchdog: heartbeat-ts feeds the device with each heartbeat and disarms it on a clean stop, as 3.0.6, but cannot set its timeout (3.0.6 sets deadtime + 10 ms, rounded up to seconds): the driver\'s own timeout applies (softdog: soft_margin=)'),
  baud: AS_306,
  udpport: AS_306,
  logfacility: AS_306,
  logfile: AS_306,
  debugfile: AS_306,
  nice_failback: AS_306,
  auto_failback: AS_306,
  rtprio: differs('rtprio has no effect: with realtime on, heartbeat-ts runs SCHED_RR at priority 1 (through chrt), as 3.0.6 does by default'),
  hbgenmethod: AS_306,
  realtime: differs(),
  debug: AS_306,
  msgfmt: AS_306,
  use_logd: differs('use_logd on: heartbeat-ts does not send its lines to ha_logd; it writes them where logfile, debugfile and logfacility say', isOn),
  conn_logd_time: differs('conn_logd_time has no effect: heartbeat-ts does not use ha_logd'),
  use_apphbd: refused('heartbeat-ts does not register with apphbd, so apphbd would not notice a hung daemon; write "use_apphbd off" or remove the line', isOn),
  log_badpack: AS_306,
  syslogmsgfmt: AS_306,
  coredumps: differs('coredumps has no effect: heartbeat-ts leaves core dumps to the system (ulimit -c, systemd LimitCORE=)'),
  coreroot: differs('coreroot has no effect: heartbeat-ts leaves core dumps to the system (kernel.core_pattern)'),
  crm_daemon_dir: AS_306,
  crmd_spawns_pengine: AS_306,
  crm: refused('heartbeat-ts runs release-1 (haresources) resource management only and starts no Pacemaker daemons; write "crm off" or remove the line', PACEMAKER_OFF),
  pacemaker: refused('heartbeat-ts runs release-1 (haresources) resource management only and starts no Pacemaker daemons; write "pacemaker off" or remove the line', PACEMAKER_OFF),
  autojoin: AS_306,
  uuidfrom: refused('heartbeat-ts cannot derive the uuid 3.0.6 derives from the node name (the C library\'s rand()); remove the line: the uuid is then kept in hb_uuid, and the peer sees this node with a new uuid once', (value) => value === 'nodename'),
  compression: differs(),
  compression_threshold: differs(),
  traditional_compression: differs(),
  env: AS_306,
  max_rexmit_delay: AS_306,
  record_config_changes: AS_306,
  record_pengine_inputs: AS_306,
  enable_config_writes: AS_306,
  memreserve: differs('memreserve has no effect: Node.js cannot lock memory in advance'),
  quorum_server: AS_306,
  bcast: differs(),
  // Pinged with iputils ping, one child per address (lib/io/pinger.ts), not a raw ICMP socket.
  ping: differs(),
  ping6: differs(),
  // 3.0.6's framing, line settings and lock; the differences are in ha.cf(5)
  serial: differs(),
  // A dead peer is reset through cluster-glue's `stonith` command before its groups are taken (see ha.cf(5)).
  stonith: differs(),
  stonith_host: differs(),
  apiauth: refused('heartbeat-ts has no heartbeat client API (libhbclient) for these permissions to apply to; its cl_status and hbctl use its own control socket; remove the line'),
  // Run as the user, restarted, stopped at shutdown (lib/resources/respawn.ts); ipfail's job is built in.
  respawn: differs('respawn: this program is a heartbeat API client; heartbeat-ts has no client API, so it cannot sign on: it is started and restarted, but gets no cluster events', API_CLIENT_LINE),
  failfast: refused('heartbeat-ts does not start failfast programs nor reboot when one dies; remove the line'),
  mcast: differs(),
  mcast6: differs(),
  ucast: differs(),
  ucast6: differs(),
  ping_group: differs(),
}

/** The one wording of a refusal, for the daemon and hbctl check alike. */
export function refusalMessage(directive: string, reason: string): string {
  return `directive ${directive} is not supported by heartbeat-ts: ${reason}`
}

/**
 * What to say about one line of a directive: an error when heartbeat-ts refuses it (for this value),
 * a warning when the value has no effect here, else nothing. `values` are the line's values (or its
 * whole rest as one value for whole-line directives).
 */
export function supportNote(directive: string, values: readonly string[]): { severity: 'error' | 'warning'; message: string } | undefined {
  const support = DIRECTIVE_SUPPORT[directive]
  if (support === undefined) return undefined
  if (support.status === 'refused') {
    const applies = support.refuseWhen === undefined || values.some((v) => support.refuseWhen?.(v) === true)
    return applies ? { severity: 'error', message: refusalMessage(directive, support.reason) } : undefined
  }
  if (support.status === 'differs' && support.warning !== undefined) {
    const applies = support.warnWhen === undefined || values.some((v) => support.warnWhen?.(v) === true)
    return applies ? { severity: 'warning', message: support.warning } : undefined
  }
  return undefined
}
