// hbctl status / hbctl nodes: a ClusterStatus as aligned tables that fit a terminal, colour optional.

import type { ClusterStatus, GroupStatus, NodeStatus, RealServerStatus } from './cluster-status.js'

export interface FormatOptions {
  /** ANSI colour (hbctl: only when stdout is a terminal and NO_COLOR is unset). */
  color: boolean
  /** Wrap limit; the last column of a table is shortened to fit. */
  width: number
  /** IANA zone for clock times; undefined = the local zone. */
  timeZone?: string
}

type Tone = 'good' | 'bad' | 'warn' | 'plain'

interface Cell {
  text: string
  tone: Tone
}

const cell = (text: string, tone: Tone = 'plain'): Cell => ({ text, tone })

function paint(c: Cell, color: boolean): string {
  if (!color || c.tone === 'plain') return c.text
  // SGR green/red/yellow, then default foreground.
  const code = c.tone === 'good' ? 32 : c.tone === 'bad' ? 31 : 33
  return `\x1b[${code}m${c.text}\x1b[39m`
}

/** Columns padded to their widest cell (two blanks apart); the last column shortened with … to fit `width`. */
function table(header: string[], rows: Cell[][], o: FormatOptions, notes: ReadonlyArray<string | undefined> = []): string {
  const all = [header.map((h) => cell(h)), ...rows]
  const cols = header.length
  const widths = Array.from({ length: cols }, (_, i) => Math.max(...all.map((r) => r[i]?.text.length ?? 0)))
  const lead = widths.slice(0, -1).reduce((a, w) => a + w + 2, 0)
  const lastMax = Math.max(8, o.width - lead)
  return all
    .map((r, ri) =>
      r
        .map((c, i) => {
          let text = c.text
          if (i === cols - 1 && text.length > lastMax) text = `${text.slice(0, lastMax - 1)}…`
          const shown = ri === 0 ? cell(text) : { text, tone: c.tone }
          const pad = i === cols - 1 ? '' : ' '.repeat((widths[i] ?? 0) - text.length + 2)
          return paint(shown, o.color) + pad
        })
        .join('')
        .trimEnd(),
    )
    .map((line, ri) => {
      // A row's note goes on its own indented line, shortened to the width.
      const note = ri === 0 ? undefined : notes[ri - 1]
      if (note === undefined) return line
      const text = note.length > o.width - 4 ? `${note.slice(0, o.width - 5)}…` : note
      return `${line}\n    ${text}`
    })
    .join('\n')
}

/** 0.4s, 12s, 3m12s, 2h05m, 3d04h. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000
  if (s < 10) return `${s.toFixed(1)}s`
  if (s < 60) return `${Math.floor(s)}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`
}

function clock(atMs: number, o: FormatOptions): string {
  return new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
  }).format(new Date(atMs))
}

function nodeTone(status: string): Tone {
  return status === 'active' || status === 'ping' ? 'good' : status === 'dead' ? 'bad' : 'warn'
}

function nodeRow(n: NodeStatus): Cell[] {
  const heard = n.local ? 'local' : n.lastHeardMsAgo === null ? 'never' : `${formatDuration(n.lastHeardMsAgo)} ago`
  const links = n.links.map((l) => `${l.name} ${l.status}`).join(', ')
  return [
    cell(n.name),
    cell(n.status, nodeTone(n.status)),
    cell(heard),
    cell(n.advertisedDeadtimeMs === null ? '-' : formatDuration(n.advertisedDeadtimeMs).replace(/\.0s$/, 's')),
    cell(n.generation === null ? '-' : String(n.generation)),
    cell(links, n.links.every((l) => l.status === 'up') ? 'good' : n.links.some((l) => l.status === 'up') ? 'warn' : 'bad'),
  ]
}

export function formatNodes(s: ClusterStatus, o: FormatOptions): string {
  return table(['NODE', 'STATUS', 'HEARD', 'DEADTIME', 'GEN', 'LINKS'], s.nodes.map(nodeRow), o)
}

function groupRow(g: GroupStatus, s: ClusterStatus, o: FormatOptions): Cell[] {
  const tone: Tone = g.state === 'running' ? 'good' : g.state === 'failed' ? 'bad' : g.state === 'stopped' ? 'plain' : 'warn'
  const t = g.lastTransition
  const since = t === null ? '-' : `${clock(t.atMs, o)} (${formatDuration(s.generatedAtMs - t.atMs)} ago)`
  // The whole resource list reads better than the key alone; the key is its first word.
  return [cell(g.resources.length > 0 ? g.resources.join(' ') : g.key), cell(g.holder ?? '-'), cell(g.state, tone), cell(since)]
}

function realServerRow(r: RealServerStatus, s: ClusterStatus): Cell[] {
  const tone: Tone = r.state === 'up' ? 'good' : r.state === 'down' ? 'bad' : 'warn'
  const c = r.lastCheck
  const check = c === null ? 'not yet' : `${formatDuration(s.generatedAtMs - c.atMs)} ago: ${c.ok ? 'ok' : 'failed'}${c.detail ? ` (${c.detail})` : ''}`
  return [cell(r.address), cell(r.service), cell(r.state, tone), cell(check)]
}

/** The whole of `hbctl status`: a headline, nodes, groups, and real servers when LVS runs here. */
export function formatStatus(s: ClusterStatus, o: FormatOptions): string {
  const parts: string[] = []
  const af = s.parameters.auto_failback
  parts.push(`${s.localNode}: holding ${s.rscstatus} resources${af !== undefined ? `, auto_failback ${af}` : ''}`)
  parts.push(formatNodes(s, o))
  parts.push(
    s.groups.length === 0
      ? 'no resource groups (haresources is empty)'
      : table(
          ['GROUP', 'HOLDER', 'STATE', 'SINCE'],
          s.groups.map((g) => groupRow(g, s, o)),
          o,
          s.groups.map((g) => (g.lastTransition ? `${g.lastTransition.what}${g.cause !== undefined ? `; cause: ${g.cause}` : ''}` : undefined)),
        ),
  )
  // Which agent each resource name runs (why: hbctl check, or the JSON); a long script path is shortened to the width.
  if (s.agents !== undefined && s.agents.length > 0) parts.push(table(['RESOURCE', 'AGENT'], s.agents.map((a) => [cell(a.name), cell(a.runs)]), o))
  if (s.realServers !== null) {
    parts.push(
      s.realServers.length === 0
        ? 'no real servers configured'
        : table(['REAL SERVER', 'SERVICE', 'STATE', 'LAST CHECK'], s.realServers.map((r) => realServerRow(r, s)), o),
    )
  }
  return `${parts.join('\n\n')}\n`
}
