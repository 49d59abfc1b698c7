// Reading ha.cf, authkeys and haresources from the ha.d directory at start-up and on SIGHUP.

import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { checkLocalNode, parseHaCf, type HaCf } from '../config/ha-cf.js'
import { parseAuthkeys } from '../config/authkeys.js'
import { parseHaresources, type ResourceGroup } from '../config/haresources.js'
import { hasErrors, type Diagnostic } from '../config/diagnostics.js'
import type { AuthKeys } from '../wire/auth-keys.js'

export interface LoadedConfig {
  haCf: HaCf
  keys: AuthKeys
  groups: ResourceGroup[]
  /** mtimes, so SIGHUP can tell what changed (heartbeat compares them too). */
  haCfMtimeMs: number
  authkeysMtimeMs: number
}

export type LoadResult = { ok: true; config: LoadedConfig; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] }

/** The most a config file may hold: the real ones are a few KB; a link to /dev/zero must not fill memory. */
export const CONFIG_MAX_BYTES = 1024 * 1024
const READ_CHUNK_BYTES = 64 * 1024

export type BoundedRead = { bytes: Buffer; mtimeMs: number; mode: number } | { error: 'too-large' } | { error: 'unreadable'; code: string }

/** Read at most `maxBytes` of a file (st_size is no bound: /dev/zero and FIFOs report 0); more is refused. */
export async function readBounded(path: string, maxBytes = CONFIG_MAX_BYTES): Promise<BoundedRead> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    return { error: 'unreadable', code: (err as NodeJS.ErrnoException).code ?? String(err) }
  }
  try {
    const st = await handle.stat()
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, maxBytes + 1 - total))
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      chunks.push(chunk.subarray(0, bytesRead))
      total += bytesRead
      if (total > maxBytes) return { error: 'too-large' }
    }
    return { bytes: Buffer.concat(chunks, total), mtimeMs: st.mtimeMs, mode: st.mode }
  } catch (err) {
    return { error: 'unreadable', code: (err as NodeJS.ErrnoException).code ?? String(err) }
  } finally {
    await handle.close()
  }
}

/** The one wording of a refused read, for the daemon and hbctl check alike. */
export function tooLarge(path: string, maxBytes = CONFIG_MAX_BYTES): Diagnostic {
  return { path, severity: 'error', message: `file too large (more than ${maxBytes / (1024 * 1024)} MiB); a config file is a few KB` }
}

/** A config file's bytes; ha.cf and haresources are read as latin1 text (one character per byte), as heartbeat's C reads them. */
async function readBytes(path: string): Promise<{ bytes: Buffer; mtimeMs: number; mode: number } | Diagnostic> {
  const r = await readBounded(path)
  if (!('error' in r)) return r
  return r.error === 'too-large' ? tooLarge(path) : { path, severity: 'error', message: `cannot read: ${r.code}` }
}

async function readText(path: string): Promise<{ text: string; mtimeMs: number; mode: number } | Diagnostic> {
  const f = await readBytes(path)
  return 'severity' in f ? f : { text: f.bytes.toString('latin1'), mtimeMs: f.mtimeMs, mode: f.mode }
}

/** authkeys alone (SIGHUP with only authkeys changed). */
export async function loadAuthkeys(haDir: string): Promise<{ keys: AuthKeys | undefined; mtimeMs: number; diagnostics: Diagnostic[] }> {
  const path = join(haDir, 'authkeys')
  // the keys are the file's bytes: a UTF-8 passphrase signs exactly as 3.0.6 signs with it
  const f = await readBytes(path)
  if ('severity' in f) return { keys: undefined, mtimeMs: 0, diagnostics: [f] }
  const r = parseAuthkeys(f.bytes, path, f.mode)
  return { keys: hasErrors(r.diagnostics) ? undefined : r.keys, mtimeMs: f.mtimeMs, diagnostics: r.diagnostics }
}

/** heartbeat's start-up validation: every file read, every problem collected, then one verdict. */
export async function loadConfig(haDir: string, localNode: string, withResources: boolean): Promise<LoadResult> {
  const diagnostics: Diagnostic[] = []
  const haCfPath = join(haDir, 'ha.cf')
  const hc = await readText(haCfPath)
  if ('severity' in hc) return { ok: false, diagnostics: [hc] }
  const parsed = parseHaCf(hc.text, haCfPath)
  diagnostics.push(...parsed.diagnostics, ...checkLocalNode(parsed.config, haCfPath, localNode))
  const auth = await loadAuthkeys(haDir)
  diagnostics.push(...auth.diagnostics)
  let groups: ResourceGroup[] = []
  if (withResources) {
    const hrPath = join(haDir, 'haresources')
    const hr = await readText(hrPath)
    if ('severity' in hr) diagnostics.push(hr)
    else {
      const r = parseHaresources(hr.text, hrPath, parsed.config.nodes)
      diagnostics.push(...r.diagnostics)
      groups = r.groups
    }
  }
  if (hasErrors(diagnostics) || auth.keys === undefined) return { ok: false, diagnostics }
  return {
    ok: true,
    diagnostics,
    config: { haCf: parsed.config, keys: auth.keys, groups, haCfMtimeMs: hc.mtimeMs, authkeysMtimeMs: auth.mtimeMs },
  }
}

/** ha.cf's log directives: where a helper of the daemon (hb-mon) logs so its lines land beside the daemon's. */
export interface HaCfLogging {
  logfile: string | undefined
  debugfile: string | undefined
  logfacility: string | undefined
  syslogFormat: boolean
  debugLevel: number
}

/**
 * The log directives of `haDir`/ha.cf. Errors on other lines do not matter here (the daemon refuses
 * such a file; its log directives are still where the admin looks). Unreadable: the reason.
 */
export async function loadLogSettings(haDir: string): Promise<{ ok: true; log: HaCfLogging } | { ok: false; message: string }> {
  const path = join(haDir, 'ha.cf')
  const f = await readText(path)
  if ('severity' in f) return { ok: false, message: `${path}: ${f.message}` }
  const cf = parseHaCf(f.text, path).config
  return { ok: true, log: { logfile: cf.logfile, debugfile: cf.debugfile, logfacility: cf.logfacility, syslogFormat: cf.syslogmsgfmt, debugLevel: cf.debugLevel } }
}
