// Find and signal a process's descendants through /proc, so a killed monitor takes its own children with it.

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
