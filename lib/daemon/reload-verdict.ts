// What a reload comes to, once the shell has prepared it (files read, media opened, membership
// built): the words for the log and for `hbctl reload`, and whether the node restarts. Pure.

import type { LogLevel, ReloadOutcome } from './node-core-types.js'

export interface ReloadVerdict {
  level: LogLevel | undefined
  ok: boolean
  message: string
  /** Restart in-process keeping resources, for this reason. */
  restartReason?: string
}

/** `running`: the node is still in its running phase (not stopping or restarting already). */
export function reloadVerdict(o: ReloadOutcome, running: boolean): ReloadVerdict {
  switch (o.kind) {
    case 'applied':
      return { level: undefined, ok: true, message: o.message }
    case 'refused':
      return { level: 'error', ok: false, message: `Reload refused, running on unchanged: ${o.reason}` }
    case 'restart': {
      // the shell closes what it prepared when the life ends without `prepared`
      if (!running) return { level: 'warn', ok: false, message: 'Reload refused: heartbeat is already stopping.' }
      const when = o.haresourcesChanged ? ' haresources changed: its groups take effect with this restart.' : ''
      return { level: 'info', ok: true, message: `Configuration changed: restarting heartbeat, keeping resources.${when}`, restartReason: o.reason }
    }
  }
}
