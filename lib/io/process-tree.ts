// Find and signal a process's descendants through /proc, so a killed monitor takes its own children with it.

import { readdirSync, readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'

/** pid → ppid for every process visible in /proc (Linux). */
async function parentMap(): Promise<Map<number, number>> {
  const map = new Map<number, number>()
  let names: string[]
  try {
    names = await readdir('/proc')
  } catch {
    return map
  }
  await Promise.all(
    names.filter((n) => /^\d+$/.test(n)).map(async (n) => {
      try {
        const stat = await readFile(`/proc/${n}/stat`, 'latin1')
        // The command name may contain blanks and parentheses: ppid is the 2nd field after the last ')'.
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        map.set(Number(n), Number(rest[1]))
      } catch {
        // exited meanwhile
      }
    }),
  )
  return map
}

/** Every descendant of `pid` (children, grandchildren, …), not `pid` itself. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = await parentMap()
  const children = new Map<number, number[]>()
  for (const [p, pp] of parents) {
    const list = children.get(pp) ?? []
    list.push(p)
    children.set(pp, list)
  }
  const out: number[] = []
  const stack = [...(children.get(pid) ?? [])]
  while (stack.length > 0) {
    const p = stack.pop() as number
    out.push(p)
    stack.push(...(children.get(p) ?? []))
  }
  return out
}

/** Signal `pid` and all its descendants (collected first, so re-parenting cannot hide them). */
export async function killTree(pid: number, signal: NodeJS.Signals): Promise<void> {
  const all = [pid, ...(await descendants(pid))]
  for (const p of all) {
    try {
      process.kill(p, signal)
    } catch {
      // already gone
    }
  }
}

/** Every descendant of `pid`, read synchronously: only for a process that is about to exit at once (a second SIGTERM). */
export function descendantsSync(pid: number): number[] {
  const children = new Map<number, number[]>()
  let names: string[] = []
  try {
    names = readdirSync('/proc')
  } catch {
    return []
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue
    const ppid = statFields(readProcSync(`/proc/${n}/stat`))?.ppid
    if (ppid === undefined) continue
    const list = children.get(ppid) ?? []
    list.push(Number(n))
    children.set(ppid, list)
  }
  const out: number[] = []
  const stack = [...(children.get(pid) ?? [])]
  while (stack.length > 0 && out.length < 100_000) {
    const p = stack.pop() as number
    out.push(p)
    stack.push(...(children.get(p) ?? []))
  }
  return out
}

function readProcSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1')
  } catch {
    return undefined
  }
}

/** ppid, process group and start time (clock ticks after boot) from /proc/PID/stat text. */
function statFields(text: string | undefined): { ppid: number; pgrp: number; startTicks: string; zombie: boolean } | undefined {
  if (text === undefined) return undefined
  // The command name may contain blanks and parentheses: the fields after it start past the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const ppid = Number(rest[1])
  const pgrp = Number(rest[2])
  const startTicks = rest[19]
  if (!Number.isInteger(ppid) || !Number.isInteger(pgrp) || startTicks === undefined || !/^\d+$/.test(startTicks)) return undefined
  return { ppid, pgrp, startTicks, zombie: rest[0] === 'Z' }
}

/** What identifies a process beyond its (reusable) pid: its start time and command line. */
export interface ProcessIdentity {
  pid: number
  /** /proc/PID/stat starttime: a reused pid has a different one. */
  startTicks: string
  pgrp: number
  argv: string[]
}

/** The live (not zombie) process `pid`, or undefined. */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  if (!Number.isInteger(pid) || pid <= 1) return undefined
  try {
    const f = statFields(await readFile(`/proc/${pid}/stat`, 'latin1'))
    if (f === undefined || f.zombie) return undefined
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'latin1')).split('\0').filter((a) => a !== '')
    return { pid, startTicks: f.startTicks, pgrp: f.pgrp, argv }
  } catch {
    return undefined
  }
}

/**
 * The pid-check a pidfile needs before anyone signals it (pids are reused): `pid` is alive, started at
 * `startTicks` when that was recorded, and its command line passes `looksRight`.
 * (The run-directory work may export the same check from lib/io/pidfile.ts; this one serves hb-mon.)
 */
export async function verifyProcess(pid: number, expect: { startTicks?: string; looksRight: (argv: readonly string[]) => boolean }): Promise<ProcessIdentity | undefined> {
  const id = await processIdentity(pid)
  if (id === undefined) return undefined
  if (expect.startTicks !== undefined && expect.startTicks !== id.startTicks) return undefined
  return expect.looksRight(id.argv) ? id : undefined
}
