// Test kit: the captured 3.0.6 vectors under test/fixtures/vectors, with each scenario's keys.
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { AuthKeys } from '../../lib/wire/auth-keys.js'
import { parseAuthkeys } from '../../lib/config/authkeys.js'
import { formatDiagnostic } from '../../lib/config/diagnostics.js'

export const VECTORS_DIR = new URL('../fixtures/vectors/', import.meta.url).pathname

export interface VectorPacket {
  scenario: string
  file: string
  bytes: Buffer
  /** [name, 'string' | 'binary', value (hex for binary)] in wire order. */
  fields: Array<[string, string, string]>
  trailerAuth: string
}

export function scenarios(): string[] {
  return readdirSync(VECTORS_DIR)
    .filter((d) => existsSync(join(VECTORS_DIR, d, 'packets.json')))
    .sort()
}

/** The scenario's config/authkeys through the real reader. Mode 0600 is passed because git keeps no such bits. */
export function scenarioKeys(scenario: string): AuthKeys {
  const path = join(VECTORS_DIR, scenario, 'config', 'authkeys')
  const { keys, diagnostics } = parseAuthkeys(readFileSync(path, 'latin1'), path, 0o600)
  if (!keys) throw new Error(`${path}: ${diagnostics.map(formatDiagnostic).join('; ')}`)
  return keys
}

export function scenarioPackets(scenario: string): VectorPacket[] {
  const list = JSON.parse(readFileSync(join(VECTORS_DIR, scenario, 'packets.json'), 'utf8')) as Array<{
    file: string
    fields: Array<[string, string, string]>
    trailer_auth: string
  }>
  return list.map((p) => ({
    scenario,
    file: p.file,
    bytes: readFileSync(join(VECTORS_DIR, scenario, p.file)),
    fields: p.fields,
    trailerAuth: p.trailer_auth,
  }))
}

export function binFiles(scenario: string): string[] {
  return readdirSync(join(VECTORS_DIR, scenario, 'packets')).filter((f) => f.endsWith('.bin'))
}
