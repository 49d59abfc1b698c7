// heartbeat's state on disk: hb_generation, hb_uuid, hostcache, /etc/ha.d/nodeinfo, and the node name they imply.

import { readFile, mkdir } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { readFileNoFollow, writeFileAtomic } from './safe-files.js'
import { parseHostcache } from '../cluster/hostcache.js'

export { formatUuid } from '../cluster/hostcache.js'

export const GENERATION_FILE = 'hb_generation'
export const UUID_FILE = 'hb_uuid'
export const NODEINFO_FILE = 'nodeinfo'
export const HOSTCACHE_FILE = 'hostcache'
/** Bound on what is read of the host cache: a line per node. */
const HOSTCACHE_MAX_BYTES = 64 * 1024

/** hb_generation's format (heartbeat.c): the number right-aligned in 15 columns, then a newline. */
export function formatGeneration(generation: number): string {
  return `${String(generation).padStart(15, ' ')}\n`
}

/** The number in an hb_generation file, or undefined when the text is not one. */
export function parseGeneration(text: string): number | undefined {
  const t = text.trim()
  if (!/^\d{1,15}$/.test(t)) return undefined
  const n = Number(t)
  return Number.isSafeInteger(n) ? n : undefined
}

/** Make the state directory if needed, then write `path` atomically (safe-files writeFileAtomic: never torn, never through a link). */
async function saveStateFile(path: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, data, { mode: 0o644 })
}

export interface GenerationResult {
  generation: number
  /** The generation read from the file, if there was a readable one. */
  previous: number | undefined
}

/**
 * hbgenmethod file (heartbeat.c IncrGeneration): read hb_generation, add one, write it back with
 * fsync before anything is sent. A missing or unreadable file starts from the clock (time(2) + 1),
 * which is what 3.0.6 logs as "No Previous generation - starting at N".
 * hbgenmethod time: time(2) at every start, nothing written.
 */
export async function nextGeneration(stateDir: string, nowSec: number, method: 'file' | 'time' = 'file'): Promise<GenerationResult> {
  const wall = Math.floor(nowSec)
  if (method === 'time') return { generation: wall, previous: undefined }
  const path = join(stateDir, GENERATION_FILE)
  let previous: number | undefined
  try {
    previous = parseGeneration((await readFileNoFollow(path, 64)).bytes.toString('latin1'))
  } catch {
    previous = undefined
  }
  const generation = previous === undefined ? wall + 1 : previous + 1
  await saveStateFile(path, formatGeneration(generation))
  return { generation, previous }
}

export interface UuidResult {
  uuid: Buffer
  created: boolean
}

/** hb_uuid: 16 raw bytes. Reuse a well-formed file; otherwise create a random (v4) uuid and save it. */
export async function loadOrCreateUuid(stateDir: string): Promise<UuidResult> {
  const path = join(stateDir, UUID_FILE)
  try {
    const { bytes } = await readFileNoFollow(path, 64)
    if (bytes.length === 16) return { uuid: bytes, created: false }
  } catch {
    // missing: create below
  }
  const uuid = Buffer.from(randomUUID().replaceAll('-', ''), 'hex')
  await saveStateFile(path, uuid)
  return { uuid, created: true }
}

/** A state file the node core asks for (its write-state action): `name` in `stateDir`, replaced atomically. */
export async function writeStateFile(stateDir: string, name: string, text: string): Promise<void> {
  await saveStateFile(join(stateDir, name), text)
}

/** The uuids the host cache remembers (lib/cluster/hostcache.ts); empty when it is missing or unreadable. */
export async function readHostcache(stateDir: string): Promise<Map<string, Buffer>> {
  try {
    return parseHostcache((await readFileNoFollow(join(stateDir, HOSTCACHE_FILE), HOSTCACHE_MAX_BYTES)).bytes.toString('latin1'))
  } catch {
    return new Map()
  }
}

/** First line of /etc/ha.d/nodeinfo (heartbeat's override of uname -n), or undefined. */
export async function readNodeInfo(haDir: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(haDir, NODEINFO_FILE), 'latin1')
    const first = text.split('\n')[0]?.trim() ?? ''
    return first === '' ? undefined : first
  } catch {
    return undefined
  }
}

/**
 * Our node name: `explicit` (HBTS_NODE_NAME, read at the edge by lib/cli/heartbeat.ts), else nodeinfo,
 * else uname -n; lowercased as heartbeat sends `src`. A blank `explicit` counts as none.
 */
export async function resolveNodeName(opts: { haDir: string; explicit?: string | undefined }): Promise<string> {
  const given = opts.explicit?.trim()
  if (given !== undefined && given !== '') return given.toLowerCase()
  const info = await readNodeInfo(opts.haDir)
  return (info ?? hostname()).toLowerCase()
}
