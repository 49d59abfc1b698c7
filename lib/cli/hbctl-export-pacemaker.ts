// hbctl export-pacemaker: ha.cf + haresources (+ authkeys checked) → OUTDIR/cib.xml and OUTDIR/corosync.conf.

import { constants } from 'node:fs'
import { mkdir, open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { parseCommand } from './cli-args.js'
import { formatDiagnostic, hasErrors, type Diagnostic } from '../config/diagnostics.js'
import { parseAuthkeys } from '../config/authkeys.js'
import { parseHaCf } from '../config/ha-cf.js'
import { parseHaresources } from '../config/haresources.js'
import type { StonithDirective } from '../config/ha-cf.js'
import { exportPacemaker, stonithLineText, stonithParams, type StonithSource } from '../config/pacemaker-export.js'
import { daemonPaths } from '../config/paths.js'

const USAGE = `usage: hbctl export-pacemaker [--ha-dir DIR] --out OUTDIR
  Reads DIR/ha.cf, DIR/haresources and DIR/authkeys and writes OUTDIR/cib.xml (one group per
  haresources line, a stonith resource per ha.cf stonith/stonith_host line, named by
  cluster-glue's \`stonith -t TYPE -n\`) and OUTDIR/corosync.conf (the same nodes and links) for Pacemaker + Corosync.
  --ha-dir DIR   heartbeat's directory (default /etc/ha.d, or $HBTS_HA_DIR)
  --out OUTDIR   where to write the two files (created if missing; existing files are replaced)
Exit status: 0 written, 1 the configuration has errors (nothing written), 2 usage.
`

async function readText(path: string): Promise<{ ok: true; text: string } | { ok: false; diagnostic: Diagnostic }> {
  try {
    return { ok: true, text: await readFile(path, 'latin1') }
  } catch (e) {
    return { ok: false, diagnostic: { path, severity: 'error', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` } }
  }
}

/** The plugin's parameter names, in the order its positional values take. */
async function stonithNames(type: string): Promise<{ ok: true; names: string[] } | { ok: false; why: string }> {
  const r = await execa('stonith', ['-t', type, '-n'], { reject: false, timeout: 10_000 })
  if (r.exitCode !== 0 || r.failed) return { ok: false, why: `\`stonith -t ${type} -n\` failed (${r.exitCode ?? r.code ?? 'no exit'}${r.stderr.trim() === '' ? '' : `: ${r.stderr.trim()}`}); is cluster-glue installed and the type right?` }
  return { ok: true, names: r.stdout.trim() === '' ? [] : r.stdout.trim().split(/\s+/) }
}

/** Each ha.cf stonith line with its names and values, or an error naming the line: none is dropped. */
async function resolveStonith(lines: readonly StonithDirective[], haCfPath: string): Promise<{ sources: StonithSource[]; diagnostics: Diagnostic[] }> {
  const sources: StonithSource[] = []
  const diagnostics: Diagnostic[] = []
  const refuse = (d: StonithDirective, why: string): void => {
    diagnostics.push({ path: haCfPath, line: d.line, severity: 'error', message: `${stonithLineText(d)}: cannot export: ${why}` })
  }
  for (const d of lines) {
    const names = await stonithNames(d.type)
    if (!names.ok) {
      refuse(d, names.why)
      continue
    }
    let values = d.kind === 'stonith_host' ? d.params : ''
    if (d.kind === 'stonith') {
      const file = await readText(d.configFile)
      if (!file.ok) {
        refuse(d, `${d.configFile}: ${file.diagnostic.message}`)
        continue
      }
      // as stonith -F: the first line that is not blank or a comment
      values = file.text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? ''
    }
    const mapped = stonithParams(names.names, values)
    if (!mapped.ok) refuse(d, mapped.why)
    else sources.push({ directive: d, names: names.names, values })
  }
  return { sources, diagnostics }
}

/** Replace OUTDIR/name, refusing to follow a link planted there. */
async function writeOut(dir: string, name: string, text: string): Promise<void> {
  const fh = await open(join(dir, name), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644)
  try {
    await fh.writeFile(text)
  } finally {
    await fh.close()
  }
}

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('hbctl export-pacemaker', USAGE, argv, { 'ha-dir': { type: 'string' }, out: { type: 'string' } })
  if (!args.ok) return args.exitCode
  const values = args.values
  if (values.out === undefined) {
    process.stderr.write(`hbctl export-pacemaker: --out OUTDIR is required\n${USAGE}`)
    return 2
  }
  const haDir = values['ha-dir'] ?? daemonPaths(process.env).haDir
  const diagnostics: Diagnostic[] = []
  const haCfPath = join(haDir, 'ha.cf')
  const haCfText = await readText(haCfPath)
  if (!haCfText.ok) diagnostics.push(haCfText.diagnostic)
  const parsed = haCfText.ok ? parseHaCf(haCfText.text, haCfPath, { refuseUnsupported: false }) : undefined
  if (parsed !== undefined) diagnostics.push(...parsed.diagnostics)
  // authkeys is not carried over (corosync has its own key), but keys that would not load are an error.
  // Its mode is the node's business, not the export's (a copy on a workstation is often 644).
  const akPath = join(haDir, 'authkeys')
  const akText = await readText(akPath)
  diagnostics.push(...(akText.ok ? parseAuthkeys(akText.text, akPath, 0o600).diagnostics : [akText.diagnostic]))
  const hrPath = join(haDir, 'haresources')
  const hrText = await readText(hrPath)
  const groups = hrText.ok ? parseHaresources(hrText.text, hrPath, parsed?.config.nodes ?? []) : undefined
  if (!hrText.ok) diagnostics.push(hrText.diagnostic)
  if (groups !== undefined) diagnostics.push(...groups.diagnostics)
  const stonith = parsed !== undefined ? await resolveStonith(parsed.config.stonith, haCfPath) : { sources: [], diagnostics: [] }
  diagnostics.push(...stonith.diagnostics)
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
  if (parsed === undefined || groups === undefined || hasErrors(diagnostics)) {
    process.stderr.write('hbctl export-pacemaker: the configuration has errors; nothing written\n')
    return 1
  }
  const exported = exportPacemaker(parsed.config, groups.groups, stonith.sources)
  await mkdir(values.out, { recursive: true })
  await writeOut(values.out, 'cib.xml', exported.cibXml)
  await writeOut(values.out, 'corosync.conf', exported.corosyncConf)
  for (const note of exported.notes) process.stderr.write(`hbctl export-pacemaker: ${note}\n`)
  process.stdout.write(`wrote ${join(values.out, 'cib.xml')} (${groups.groups.length} group${groups.groups.length === 1 ? '' : 's'}) and ${join(values.out, 'corosync.conf')} (${parsed.config.nodes.length} nodes)\n`)
  return 0
}
