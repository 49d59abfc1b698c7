// mon.cf after the last line: watches get their hostgroup's hosts, and what each service needs is checked.

import { quote } from './diagnostics.js'
import type { Report } from './mon-cf-values.js'
import type { MonHostgroup, MonWatch } from './mon-cf.js'

export function resolveWatches(r: Report, watches: MonWatch[], hostgroups: ReadonlyMap<string, MonHostgroup>): void {
  const watched = new Set<string>()
  for (const w of watches) {
    const hg = hostgroups.get(w.group)
    if (hg) {
      w.hosts = [...hg.hosts]
      watched.add(w.group)
    } else {
      // mon: a watch with no hostgroup of that name watches the tag itself as a host.
      r.warn(w.line, `watch ${quote(w.group)} names no hostgroup; mon watches the single host ${quote(w.group)}`)
      w.hosts = [w.group]
    }
    if (w.services.length === 0) r.warn(w.line, `watch ${quote(w.group)} has no service`)
    for (const s of w.services) {
      if (s.intervalMs === undefined) r.err(s.line, `service ${quote(s.name)} of watch ${quote(w.group)} has no interval`)
      if (s.monitor === undefined) r.warn(s.line, `service ${quote(s.name)} of watch ${quote(w.group)} has no monitor line; it never runs`)
    }
  }
  for (const hg of hostgroups.values()) {
    if (!watched.has(hg.name)) r.warn(hg.line, `hostgroup ${quote(hg.name)} has no watch`)
  }
}
