// hbctl events [--follow] [--json] [--since DURATION|TIME]: the daemon's event history (deaths,
// takeovers and releases with their cause, agent runs, requests, reloads, STONITH resets) from its journal.

import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { daemonPaths } from '../config/paths.js'
import { JOURNAL_NAME, parseJournal, parseSince, readJournal, type JournalRecord } from '../io/event-journal.js'
import { EXIT_USAGE, parseCommand } from './cli-args.js'

const USAGE = `usage: hbctl events [--follow] [--json] [--since DURATION|TIME]
  The event history: nodes dead and back, takeovers and releases with their cause, agent runs,
  standby/takeover requests and who asked, reloads, shutdowns, STONITH resets. Kept in hbts-events.jsonl in the
  state directory (/var/lib/heartbeat), across restarts.
  --follow, -f    keep printing new events as they come
  --json          one JSON object a line, as journaled
  --since WHEN    only events since WHEN: 90s, 10m, 2h, 1d back, or a time such as 2026-12-02T05:00
`

const FOLLOW_POLL_MS = 1000

function ms(v: unknown): string {
  return typeof v === 'number' ? `${(v / 1000).toFixed(1)} s` : '?'
}

/** One event as a line an admin reads. */
export function formatEvent(r: JournalRecord): string {
  const when = r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  const s = (k: string): string => {
    const v = r[k]
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '?'
  }
  let what: string
  switch (r.kind) {
    case 'node-dead': {
      const links = Array.isArray(r.links) ? (r.links as Array<{ link: string; silentMs?: number }>).map((l) => `${l.link} silent ${ms(l.silentMs)}`).join(', ') : ''
      what = `node ${s('node')} dead: no status for ${ms(r.silentMs)} (deadtime ${ms(r.deadtimeMs)})${links !== '' ? `; ${links}` : ''}`
      break
    }
    case 'node-back':
      what = `node ${s('node')} back (${s('status')})`
      break
    case 'link':
      what = `link ${s('link')} to ${s('node')} ${s('status')}`
      break
    case 'group':
      what = `group ${s('group')} ${s('from')} -> ${s('to')}: ${s('cause')} (${s('text')})`
      break
    case 'agent':
      what = `agent ${s('op')} ${s('resource')} ${r.ok === true ? 'ok' : 'FAILED'} exit ${s('exitCode')} in ${ms(r.durationMs)}${typeof r.detail === 'string' && r.detail !== '' ? `: ${r.detail.split('\n').join(' | ')}` : ''}`
      break
    case 'request':
      what = `${s('request')} requested by ${s('by')}`
      break
    case 'reload':
      what = `reload ${s('outcome')}: ${s('text')}`
      break
    case 'shutdown':
      what = `shutdown: ${s('text')}`
      break
    case 'stonith': {
      const outcome = r.outcome === 'started' ? 'started' : r.outcome === 'ok' ? 'ok' : `FAILED (${s('outcome')})`
      const took = r.outcome === 'started' ? '' : ` in ${ms(r.durationMs)}`
      what = `reset ${s('node')} with ${s('device')}: ${outcome} (attempt ${s('attempt')}${took})${typeof r.detail === 'string' && r.detail !== '' ? `: ${r.detail.split('\n').join(' | ')}` : ''}`
      break
    }
    default:
      what = `${r.kind} ${JSON.stringify(r)}`
  }
  return `${when} ${r.host} ${what}`
}

export async function main(argv: string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const args = parseCommand('hbctl events', USAGE, argv, {
    follow: { type: 'boolean', short: 'f' },
    json: { type: 'boolean' },
    since: { type: 'string' },
  })
  if (!args.ok) return args.exitCode
  const v = args.values
  let sinceMs: number | undefined
  if (v.since !== undefined) {
    sinceMs = parseSince(v.since, Date.now())
    if (sinceMs === undefined) {
      process.stderr.write(`hbctl events: --since ${JSON.stringify(v.since)} is neither a duration (10m, 2h) nor a time\n${USAGE}`)
      return EXIT_USAGE
    }
  }
  const path = join(daemonPaths(env).stateDir, JOURNAL_NAME)
  const print = (r: JournalRecord): void => void process.stdout.write(`${v.json === true ? JSON.stringify(r) : formatEvent(r)}\n`)
  for (const r of await readJournal(path, sinceMs)) print(r)
  if (v.follow !== true) return 0
  let offset = await stat(path).then((s) => s.size, () => 0)
  let rest = ''
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS))
    const size = await stat(path).then((s) => s.size, () => 0)
    if (size < offset) {
      offset = 0 // rotated: the new file from its start
      rest = ''
    }
    if (size === offset) continue
    const fh = await open(path, 'r')
    try {
      const buf = Buffer.alloc(size - offset)
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset)
      offset += bytesRead
      const text = rest + buf.subarray(0, bytesRead).toString('utf8')
      const cut = text.lastIndexOf('\n') + 1
      rest = text.slice(cut)
      for (const r of parseJournal(text.slice(0, cut), sinceMs)) print(r)
    } finally {
      await fh.close()
    }
  }
}
