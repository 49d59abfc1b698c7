// hbctl check: read ha.cf, authkeys, haresources and mon.cf as heartbeat and mon would, print every problem.

import { access, readFile, stat } from 'node:fs/promises'
import { constants } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseAuthkeys } from '../config/authkeys.js'
import { formatDiagnostic, hasErrors, type Diagnostic } from '../config/diagnostics.js'
import { checkLocalNode, parseHaCf, type HaCf } from '../config/ha-cf.js'
import { parseHaresources } from '../config/haresources.js'
import { parseMonCf } from '../config/mon-cf.js'
import { daemonPaths } from '../daemon/paths.js'

const USAGE = `usage: hbctl check [--ha-dir DIR] [--mon FILE] [--node NAME]
  Reads DIR/ha.cf, DIR/authkeys (its mode too), DIR/haresources and mon.cf the way
  heartbeat 3.0.6 and mon do, and prints every problem as path:line: message.
  --ha-dir DIR   heartbeat's directory (default /etc/ha.d, or $HBTS_HA_DIR)
  --mon FILE     mon.cf to check (default /etc/mon/mon.cf, or $HBTS_MON_CF, when present)
  --node NAME    this node's name (default: first line of DIR/nodeinfo, else the host name)
Exit status: 0 when heartbeat would start (warnings allowed), 1 when it would not, 2 on usage errors.
`

type ReadResult = { ok: true; text: string } | { ok: false; diagnostic: Diagnostic }

async function readText(path: string): Promise<ReadResult> {
  try {
    return { ok: true, text: await readFile(path, 'utf8') }
  } catch (e) {
    return { ok: false, diagnostic: { path, severity: 'error', message: `cannot read: ${describe(e)}` } }
  }
}

function describe(e: unknown): string {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') {
    if (e.code === 'ENOENT') return 'no such file'
    if (e.code === 'EACCES') return 'permission denied'
    if (e.code === 'EISDIR') return 'is a directory'
    return e.code
  }
  return String(e)
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK)
    return true
  } catch {
    return false
  }
}

/** heartbeat's local name: the first line of nodeinfo, else `uname -n`. */
async function localNodeName(haDir: string, given: string | undefined): Promise<{ name: string; source: string }> {
  if (given !== undefined) return { name: given, source: '--node' }
  const nodeinfo = join(haDir, 'nodeinfo')
  try {
    const first = (await readFile(nodeinfo, 'utf8')).split('\n')[0]?.trim() ?? ''
    if (first !== '') return { name: first, source: nodeinfo }
  } catch {
    // no nodeinfo: heartbeat uses uname -n
  }
  return { name: hostname(), source: 'uname -n' }
}

/** What heartbeat checks on the host at start: respawn/failfast commands must be executable, users must exist. */
async function checkClients(config: HaCf, path: string): Promise<Diagnostic[]> {
  const out: Diagnostic[] = []
  let passwd: string | undefined
  try {
    passwd = await readFile('/etc/passwd', 'utf8')
  } catch {
    passwd = undefined
  }
  const users = new Set((passwd ?? '').split('\n').map((l) => l.split(':')[0] ?? ''))
  for (const child of config.respawn) {
    const directive = child.failfast ? 'failfast' : 'respawn'
    try {
      await access(child.path, constants.X_OK)
    } catch {
      out.push({ path, line: child.line, severity: 'error', message: `${directive}: ${JSON.stringify(child.path)} is not executable on this host` })
    }
    if (passwd !== undefined && !users.has(child.user)) {
      // users may come from NSS (LDAP...): not knowing one locally is only a warning
      out.push({ path, line: child.line, severity: 'warning', message: `${directive}: user ${JSON.stringify(child.user)} is not in /etc/passwd` })
    }
  }
  return out
}

export async function main(argv: string[]): Promise<number> {
  let values: { 'ha-dir'?: string | undefined; mon?: string | undefined; node?: string | undefined; help?: boolean | undefined }
  try {
    values = parseArgs({
      args: argv,
      options: {
        'ha-dir': { type: 'string' },
        mon: { type: 'string' },
        node: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (e) {
    process.stderr.write(`hbctl check: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(USAGE)
    return 0
  }
  const defaults = daemonPaths(process.env)
  const haDir = values['ha-dir'] ?? defaults.haDir
  const diagnostics: Diagnostic[] = []
  const checked: string[] = []

  // ha.cf and the local node
  const haCfPath = join(haDir, 'ha.cf')
  const haCfText = await readText(haCfPath)
  let config: HaCf | undefined
  if (haCfText.ok) {
    const parsed = parseHaCf(haCfText.text, haCfPath)
    config = parsed.config
    diagnostics.push(...parsed.diagnostics)
    const local = await localNodeName(haDir, values.node)
    diagnostics.push(...checkLocalNode(config, haCfPath, local.name))
    diagnostics.push(...(await checkClients(config, haCfPath)))
    checked.push(`${haCfPath} (node ${JSON.stringify(local.name.toLowerCase())} from ${local.source})`)
  } else {
    diagnostics.push(haCfText.diagnostic)
  }

  // authkeys, with the mode the file really has
  const authkeysPath = join(haDir, 'authkeys')
  try {
    const info = await stat(authkeysPath)
    // the keys are bytes, not text: read them as heartbeat does
    const bytes = await readFile(authkeysPath)
    const parsed = parseAuthkeys(bytes, authkeysPath, info.mode)
    diagnostics.push(...parsed.diagnostics, ...parsed.advice)
    checked.push(authkeysPath)
  } catch (e) {
    diagnostics.push({ path: authkeysPath, severity: 'error', message: `cannot read: ${describe(e)}` })
  }

  // haresources: release-1 mode only (pacemaker on makes heartbeat ignore it)
  const haresourcesPath = join(haDir, 'haresources')
  if (config === undefined || config.manageResources) {
    const text = await readText(haresourcesPath)
    if (text.ok) {
      diagnostics.push(...parseHaresources(text.text, haresourcesPath, config?.nodes ?? []).diagnostics)
      checked.push(haresourcesPath)
    } else diagnostics.push(text.diagnostic)
  }

  // mon.cf: the named file must exist; the default one is checked when present
  const monPath = values.mon ?? defaults.monCf
  if (values.mon !== undefined || (await exists(monPath))) {
    const text = await readText(monPath)
    if (text.ok) {
      diagnostics.push(...parseMonCf(text.text, monPath).diagnostics)
      checked.push(monPath)
    } else diagnostics.push(text.diagnostic)
  }

  for (const d of diagnostics) process.stdout.write(formatDiagnostic(d) + '\n')
  const errors = diagnostics.filter((d) => d.severity === 'error').length
  const warnings = diagnostics.length - errors
  const verdict = hasErrors(diagnostics) ? 'heartbeat would not start' : 'heartbeat would start'
  process.stdout.write(`hbctl check: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}: ${verdict}\n`)
  if (checked.length > 0) process.stdout.write(`checked: ${checked.join(', ')}\n`)
  return hasErrors(diagnostics) ? 1 : 0
}
