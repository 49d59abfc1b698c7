// Find and signal a process's descendants through /proc, so a killed monitor takes its own children with it.

import { readdirSync, readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { parseStatLine } from './pid-check.js'

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
        const f = parseStatLine(await readFile(`/proc/${n}/stat`, 'latin1'))
        if (f !== undefined) map.set(Number(n), f.ppid)
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
    const text = readProcSync(`/proc/${n}/stat`)
    const ppid = text === undefined ? undefined : parseStatLine(text)?.ppid
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
