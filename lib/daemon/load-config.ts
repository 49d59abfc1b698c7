// Reading ha.cf, authkeys and haresources from the ha.d directory at start-up and on SIGHUP.

import { readFile, stat } from 'node:fs/promises'
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

async function readText(path: string): Promise<{ text: string; mtimeMs: number; mode: number } | Diagnostic> {
  try {
    const st = await stat(path)
    return { text: await readFile(path, 'latin1'), mtimeMs: st.mtimeMs, mode: st.mode }
  } catch (err) {
    return { path, severity: 'error', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }
  }
}

/** authkeys alone (SIGHUP with only authkeys changed). */
export async function loadAuthkeys(haDir: string): Promise<{ keys: AuthKeys | undefined; mtimeMs: number; diagnostics: Diagnostic[] }> {
  const path = join(haDir, 'authkeys')
  const f = await readText(path)
  if ('severity' in f) return { keys: undefined, mtimeMs: 0, diagnostics: [f] }
  const r = parseAuthkeys(f.text, path, f.mode)
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
