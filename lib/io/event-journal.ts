// The event history on disk (hbctl events): JSON lines appended under the state directory, bounded
// by rotation (one old file kept), written in the background so the daemon loop never waits on it.

import { constants } from 'node:fs'
import { open, rename, stat, readFile } from 'node:fs/promises'

const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW } = constants

/** The journal is rotated past this size; with the one old file, at most twice this on disk. */
export const JOURNAL_MAX_BYTES = 1024 * 1024
/** Lines waiting for the disk past this are dropped (and counted): a stuck disk must not grow memory. */
export const JOURNAL_MAX_PENDING = 1000

export const JOURNAL_NAME = 'hbts-events.jsonl'

/** One journal line: when (ISO, UTC), which node wrote it (`host`), and the event's own fields. */
export interface JournalRecord {
  time: string
  host: string
  kind: string
  [field: string]: unknown
}

export interface EventJournalOptions {
  path: string
  maxBytes?: number
  maxPending?: number
  /** Where a write failure is reported (once per run of failures). */
  onError?: (err: Error) => void
}

/** Appends lines in order, one write at a time, never blocking the caller. */
export class EventJournal {
  private readonly path: string
  private readonly maxBytes: number
  private readonly maxPending: number
  private readonly onError: ((err: Error) => void) | undefined
  private pending: string[] = []
  private writing: Promise<void> | undefined
  private size: number | undefined
  private failing = false
  /** Lines dropped because the queue was full. */
  dropped = 0

  constructor(o: EventJournalOptions) {
    this.path = o.path
    this.maxBytes = o.maxBytes ?? JOURNAL_MAX_BYTES
    this.maxPending = o.maxPending ?? JOURNAL_MAX_PENDING
    this.onError = o.onError
  }

  append(record: JournalRecord): void {
    if (this.pending.length >= this.maxPending) {
      this.dropped++
      return
    }
    this.pending.push(`${JSON.stringify(record)}\n`)
    if (this.writing === undefined) this.writing = this.drain().finally(() => (this.writing = undefined))
  }

  /** Resolves when everything appended so far is on disk (or given up on). */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending
      this.pending = []
      try {
        await this.write(batch)
        this.failing = false
      } catch (err) {
        if (!this.failing) this.onError?.(err as Error)
        this.failing = true
      }
    }
  }

  /** Appends the lines, rotating first whenever the next one would pass the bound. */
  private async write(lines: string[]): Promise<void> {
    if (this.size === undefined) this.size = await stat(this.path).then((s) => s.size, () => 0)
    let i = 0
    while (i < lines.length) {
      let chunk = ''
      let bytes = 0
      for (; i < lines.length; i++) {
        const n = Buffer.byteLength(lines[i] ?? '')
        if (this.size + bytes + n > this.maxBytes && this.size + bytes > 0) break
        chunk += lines[i]
        bytes += n
      }
      if (bytes === 0) {
        await this.rotate()
        continue
      }
      // O_NOFOLLOW: a link planted in place of the journal is refused, never written through.
      const fh = await open(this.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o640)
      try {
        await fh.write(chunk)
      } finally {
        await fh.close()
      }
      this.size += bytes
    }
  }

  /** A rename within our own directory: the current file replaces the old one. */
  private async rotate(): Promise<void> {
    await rename(this.path, `${this.path}.1`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
    this.size = 0
  }
}

/** Records of the old file then the current one, oldest first; lines that are not JSON are skipped. */
export async function readJournal(path: string, sinceMs?: number): Promise<JournalRecord[]> {
  const out: JournalRecord[] = []
  for (const p of [`${path}.1`, path]) {
    const text = await readFile(p, 'utf8').catch(() => '')
    out.push(...parseJournal(text, sinceMs))
  }
  return out
}

export function parseJournal(text: string, sinceMs?: number): JournalRecord[] {
  const out: JournalRecord[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let r: unknown
    try {
      r = JSON.parse(line)
    } catch {
      continue
    }
    if (typeof r !== 'object' || r === null) continue
    const rec = r as JournalRecord
    if (typeof rec.time !== 'string' || typeof rec.kind !== 'string') continue
    if (sinceMs !== undefined && !(Date.parse(rec.time) >= sinceMs)) continue
    out.push(rec)
  }
  return out
}

/** --since: a duration back from now (90s, 10m, 2h, 1d) or a time Date.parse reads; undefined if neither. */
export function parseSince(text: string, nowMs: number): number | undefined {
  const d = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/.exec(text.trim())
  if (d) {
    const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[(d[2] ?? 's') as 'ms']
    return nowMs - Number(d[1]) * unit
  }
  const t = Date.parse(text)
  return Number.isNaN(t) ? undefined : t
}
