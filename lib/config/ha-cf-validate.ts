// ha.cf after the last line: init_config's derived defaults and the checks that span directives.

import type { Diagnostic } from './diagnostics.js'
import { report, type ReadState } from './ha-cf-state.js'
import { DEFAULT_UDP_PORT } from './ha-cf-media.js'
import type { ApiAuth, HaCf } from './ha-cf.js'

/** parse_config: default API permissions for the well-known clients, unless ha.cf overrides them. */
const DEFAULT_APIAUTH: readonly ApiAuth[] = [
  { client: 'ipfail', uids: ['hacluster'], gids: undefined, line: undefined },
  { client: 'ccm', uids: ['hacluster'], gids: undefined, line: undefined },
  { client: 'ping', uids: undefined, gids: ['haclient'], line: undefined },
  { client: 'lha-snmpagent', uids: ['root'], gids: undefined, line: undefined },
  { client: 'anon', uids: ['root'], gids: ['haclient'], line: undefined },
]

/** Fill what init_config derives, check what spans directives, and hand out the finished HaCf. */
export function finishHaCf(s: ReadState, recordedDefaults: ReadonlyMap<string, string>): { config: HaCf; diagnostics: Diagnostic[] } {
  const d = s.draft
  const at = (directive: string): number | undefined => s.lines.get(directive)
  const whole = (severity: 'error' | 'warning', message: string, line?: number): void => report(s, severity, message, line)
  for (const [directive, value] of recordedDefaults) {
    if (!s.parameters.has(directive)) s.parameters.set(directive, value)
  }
  for (const auth of DEFAULT_APIAUTH) {
    if (!d.apiauth.some((a) => a.client === auth.client)) d.apiauth.push({ ...auth })
  }
  const manageResources = d.pacemaker === 'off'

  if (d.media.length === 0 && d.pingNodes.length === 0) whole('error', `no heartbeat media: add a bcast, ucast or mcast line`)
  else if (d.media.length === 0) whole('warning', `only ping media: the cluster nodes have no path to hear each other (add bcast, ucast or mcast)`)
  if (d.nodes.length === 0 && d.autojoin !== 'any') whole('error', `no nodes: add a node line for each cluster member (its uname -n)`)

  const warntimeMs = d.warntimeMs ?? Math.trunc(d.deadtimeMs / 2)
  if (d.deadtimeMs <= 2 * d.keepaliveMs) {
    whole('error', `deadtime (${d.deadtimeMs}ms) must be more than twice keepalive (${d.keepaliveMs}ms)`, at('deadtime') ?? at('keepalive'))
  }
  let initdeadMs = d.initdeadMs
  if (initdeadMs === undefined) {
    // init_config: deadtime above 10 s → same; below 6 s → 12 s; else twice deadtime
    initdeadMs = d.deadtimeMs > 10000 ? d.deadtimeMs : d.deadtimeMs < 6000 ? 12000 : 2 * d.deadtimeMs
    s.parameters.set('initdead', `${initdeadMs}ms`)
  }
  if (initdeadMs < d.deadtimeMs) {
    whole('error', `initdead (${initdeadMs}ms) is smaller than deadtime (${d.deadtimeMs}ms)`, at('initdead') ?? at('deadtime'))
  } else if (initdeadMs < 10000) {
    whole('warning', `initdead (${initdeadMs}ms) may be too small: it covers slow network start-up and should be at least 10 s`, at('initdead') ?? at('deadtime'))
  }
  if (d.warntimeMs === undefined) s.parameters.set('warntime', `${warntimeMs}ms`)
  else if (warntimeMs >= d.deadtimeMs) whole('warning', `warntime (${warntimeMs}ms) is not below deadtime (${d.deadtimeMs}ms): no late-heartbeat warning will come before a node is declared dead`, at('warntime'))
  let deadpingMs = d.deadpingMs
  if (deadpingMs === undefined) {
    deadpingMs = d.deadtimeMs
    s.parameters.set('deadping', `${deadpingMs}ms`)
  } else if (deadpingMs <= 2 * d.keepaliveMs) {
    whole('error', `deadping (${deadpingMs}ms) must be more than twice keepalive (${d.keepaliveMs}ms)`, at('deadping'))
  }
  const udpPort = d.udpPort ?? DEFAULT_UDP_PORT
  if (d.udpPort === undefined) s.parameters.set('udpport', String(udpPort))
  if (d.autoFailback === 'legacy' && manageResources) {
    whole('warning', `auto_failback is "legacy" (the default): heartbeat 3.0.6 deprecates it and refuses hb_standby; write "auto_failback on" or "off"`, at('auto_failback'))
  }
  // check_logd_usage: no log destination at all forces logd on; an explicit "use_logd off" is then an error
  let logfacility = d.logfacility
  let useLogd = d.useLogd ?? false
  if (d.logfile === undefined && d.debugfile === undefined && !isFacility(logfacility)) {
    if (d.useLogd === false) whole('error', `no logfile, debugfile or logfacility and use_logd is off: heartbeat would have nowhere to log`, at('use_logd'))
    else {
      // 3.0.6 hands every line to ha_logd, whose default is syslog facility daemon: the admin finds them there
      whole('warning', 'no logfile, debugfile or logfacility: 3.0.6 logs through ha_logd, to syslog facility daemon by default; heartbeat-ts logs to syslog facility daemon itself', at('use_logd'))
      logfacility = 'daemon'
    }
    useLogd = true
  }
  const facilitySet = isFacility(logfacility)
  // with a facility, unset log files become /dev/null
  const logfile = facilitySet ? (d.logfile ?? '/dev/null') : d.logfile
  const debugfile = facilitySet ? (d.debugfile ?? '/dev/null') : d.debugfile
  if (manageResources && d.autojoin !== 'none') {
    whole('error', `autojoin ${d.autojoin} conflicts with release-1 (haresources) resource management`, at('autojoin'))
  }
  const config: HaCf = {
    ...d, warntimeMs, initdeadMs, deadpingMs, udpPort, useLogd, logfacility, logfile, debugfile, manageResources,
    lines: s.lines, parameters: s.parameters,
  }
  return { config, diagnostics: s.diagnostics }
}

/** A logfacility line that sends to syslog (none and kern do not). */
function isFacility(f: string | undefined): boolean {
  return f !== undefined && f !== 'none' && f !== 'kern'
}
