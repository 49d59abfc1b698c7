// The outside commands heartbeat-ts runs (lib/agents/system-tools.json, also read by .ci/setup), and the
// words for one that is missing: "arping: not installed (Debian package iputils-arping)", never a bare ENOENT.

import { access, constants } from 'node:fs/promises'
import { delimiter, isAbsolute, join } from 'node:path'
import manifest from './system-tools.json' with { type: 'json' }

export type ToolScope = 'product' | 'demo' | 'test'

export interface SystemTool {
  command: string
  package: string
  scope: ToolScope
  /** What it is run for, in a few words. */
  for: string
}

export const SYSTEM_TOOLS: readonly SystemTool[] = manifest.tools.map((t) => ({ ...t, scope: t.scope as ToolScope }))

const byCommand = new Map(SYSTEM_TOOLS.map((t) => [t.command, t]))

export function systemTool(command: string): SystemTool | undefined {
  return byCommand.get(command)
}

/** "arping: not installed (Debian package iputils-arping)"; a command outside the manifest is named alone. */
export function describeMissing(command: string): string {
  const tool = byCommand.get(command)
  return tool === undefined ? `${command}: not installed (not found on PATH)` : `${command}: not installed (Debian package ${tool.package})`
}

/** True for the error a spawn of a program that is not there gives (execa's result or error, or a raw Node error). */
export function isNotInstalled(failure: unknown): boolean {
  if (typeof failure !== 'object' || failure === null) return false
  const f = failure as { code?: unknown; cause?: unknown }
  if (f.code === 'ENOENT') return true
  return typeof f.cause === 'object' && f.cause !== null && (f.cause as { code?: unknown }).code === 'ENOENT'
}

/** The executable `command` resolves to on `pathVar` (or itself when absolute), or undefined when there is none. */
export async function findOnPath(command: string, pathVar: string | undefined): Promise<string | undefined> {
  const candidates = isAbsolute(command) || command.includes('/') ? [command] : (pathVar ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, command))
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK)
      return c
    } catch {
      // not here; try the next directory
    }
  }
  return undefined
}

/** Of `commands`, the ones not found on `pathVar`, each in describeMissing's words. */
export async function missingTools(commands: readonly string[], pathVar: string | undefined): Promise<string[]> {
  const out: string[] = []
  for (const c of commands) if ((await findOnPath(c, pathVar)) === undefined) out.push(describeMissing(c))
  return out
}
