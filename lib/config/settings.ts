// heartbeat-ts's own extension settings file (INI, default /etc/ha.d/heartbeat-ts.conf): typed values, defaults, diagnostics with lines.
import { decode } from 'ini'
import { quote, type Diagnostic } from './diagnostics.js'
import { closest, didYouMean } from './did-you-mean.js'

/*
 * heartbeat-ts.conf — settings that heartbeat 3.0.6 does not have. The legacy files (ha.cf, authkeys,
 * haresources, mon.cf) are read unchanged and never written; everything new lives here. A missing file
 * means every default below, and the defaults behave like 3.0.6 except where noted.
 *
 * Syntax: INI as the `ini` package reads it. `[section]` headers start at the beginning of a line;
 * `key = value`; `;` or `#` starts a comment (also after a value); quotes around a value are removed.
 * Unknown sections and keys are warnings (the rest of the file still applies); a bad value is an error
 * and the daemon refuses to start, as it does for a bad ha.cf line.
 *
 * [membership]
 *   status_copies = 3        (1-5) How many copies of each status message go out. Copy k (k = 1 ..
 *                            copies-1) is the same stamped packet (same seq, ts and auth) sent again
 *                            k*keepalive/copies after the original. A peer — heartbeat 3.0.6 or ours —
 *                            takes the first copy that arrives as the status and the rest as
 *                            duplicates, so this is wire-compatible. With 2 copies, 30 % packet loss
 *                            and deadtime = 5 x keepalive, a peer must lose 9 packets in a row (not 4)
 *                            before it is falsely declared dead: in simulation about 1 two-minute run
 *                            in 100 still sees one, against about 1 in 2 with a single status; with 3
 *                            copies (14 in a row) none was seen, hence the default of 3. Each copy is one more datagram per
 *                            medium per keepalive. 1 = exactly one status per keepalive, as heartbeat
 *                            3.0.6 sends. No copies are sent once `shutdone` has gone out.
 *                            Copies are adaptive: they go out only while loss is evident, and a
 *                            loss-free cluster sends one status per keepalive. Evident means: the
 *                            first 2 deadtimes after start (nothing is known yet; one sign then is
 *                            taken for a start-up race, a second one for loss), then 30 s (or 4
 *                            deadtimes, if longer) after the last sign of loss — a gap in a peer's
 *                            sequence numbers still open when we ask for it again, a peer asking us
 *                            to retransmit, or a peer's status copies reaching us short (a status
 *                            heard fewer times than the ones before and after it). At 30 % loss the
 *                            signs come every few keepalives, so the copies never lapse; when loss
 *                            starts on a quiet cluster, both nodes copy within about 2 keepalives of
 *                            the first lost status.
 * [ipaddr]
 *   arp_count = 10           (1-100) Gratuitous ARP packets sent when an address is taken over
 *                            (send_arp -c, 3.0.6's default).
 *   arp_interval_ms = 500    (1-10000) Milliseconds between them (send_arp -i, 3.0.6's default).
 * [lvs]
 *   down_action = remove     (remove | quiesce) What happens to a real server whose monitor fails:
 *                            `remove` deletes it from the virtual service (ipvsadm -d, as lvs.alert
 *                            does); `quiesce` keeps it with weight 0 so existing connections drain.
 *   rules_file = /etc/ha.d/ipvsadm.rules
 *                            (absolute path) The ipvsadm-save style rules the LVS resource loads.
 * [agents]
 *   timeout_ms = 60000       (1000-3600000) Default time a resource agent call (start, stop, status)
 *                            may take before it is killed and counted as failed. The upper bound is
 *                            3.0.6's 60-minute emergency limit for releasing resources.
 *   site_scripts = lvs       (resource names, split on blanks or commas; default none) Resources whose
 *                            site script (<ha dir>/resource.d/NAME, then /etc/init.d, /etc/rc.d/init.d)
 *                            runs instead of heartbeat-ts's built-in agent of that name. A named
 *                            resource with no such script is an error (hbctl check; the daemon refuses
 *                            to start). Without it the built-in runs, unless it cannot do its job on
 *                            this node (lvs with no table source) and a site script exists.
 * [notify]
 *   command = /usr/local/sbin/hb-notify --to ops
 *                            (absolute path, then arguments split on blanks; default none) Run on
 *                            every state change of a node or a resource group, with the event's
 *                            kind and fields appended as arguments and in HBTS_EVENT_* variables.
 *   timeout_ms = 10000       (100-600000) A hook still running after this is killed.
 *   max_running = 4          (1-64) Hooks running at once; past that an event's hook is skipped
 *                            (logged and counted in heartbeat_notify_skipped_total).
 * [metrics]
 *   textfile = /var/lib/node_exporter/textfile/heartbeat.prom
 *                            (absolute path; default none) Where the counters of hbctl metrics are
 *                            written, replaced atomically, for node_exporter's textfile collector.
 *   interval_ms = 15000      (1000-3600000) How often the textfile is written.
 */

export const DEFAULT_SETTINGS_PATH = '/etc/ha.d/heartbeat-ts.conf'

export type LvsDownAction = 'remove' | 'quiesce'

export interface Settings {
  membership: { statusCopies: number }
  ipaddr: { arpCount: number; arpIntervalMs: number }
  lvs: { downAction: LvsDownAction; rulesFile: string }
  /** `siteScripts`: resource names whose site script runs instead of the built-in agent. */
  agents: { timeoutMs: number; siteScripts: string[] }
  /** `command`: argv of the hook, empty when none is set. */
  notify: { command: string[]; timeoutMs: number; maxRunning: number }
  /** `textfile`: empty when not written. */
  metrics: { textfile: string; intervalMs: number }
}

export type SettingsSection = keyof Settings

/** A fresh copy of every default (callers may mutate what they get). */
export function defaultSettings(): Settings {
  return {
    membership: { statusCopies: 3 },
    ipaddr: { arpCount: 10, arpIntervalMs: 500 },
    lvs: { downAction: 'remove', rulesFile: '/etc/ha.d/ipvsadm.rules' },
    agents: { timeoutMs: 60000, siteScripts: [] },
    notify: { command: [], timeoutMs: 10000, maxRunning: 4 },
    metrics: { textfile: '', intervalMs: 15000 },
  }
}

/** One key of the file: its place, default as written, the values it takes, and how it lands in Settings. */
export interface SettingKey {
  section: SettingsSection
  key: string
  /** The default as one would write it in the file. */
  defaultText: string
  /** The accepted values, for messages and the man page (e.g. `1-5`, `remove | quiesce`). */
  accepts: string
  /** Store a value into `s`; returns why the value is refused, or undefined when it was taken. */
  apply: (s: Settings, value: string) => string | undefined
}

/** A whole number in [min, max], written in plain decimal digits (no unit, no sign, no fraction). */
function wholeNumber(min: number, max: number, unit: string): (value: string) => number | string {
  return (value) => {
    if (!/^\d+$/.test(value)) {
      const unitHint = /^\d+\s*[a-z]+$/i.test(value) ? ` (write the number of ${unit} only, without a unit)` : ''
      return `${quote(value)} is not a whole number${unitHint}; use ${min}-${max}`
    }
    const n = Number(value)
    if (n < min || n > max) return `${quote(value)} is out of range; use ${min}-${max}`
    return n
  }
}

interface Range {
  min: number
  max: number
  unit: string
}

/** [ipaddr]'s ranges: IPaddr checks the values the daemon carries to it against the same ones. */
export const ARP_COUNT_RANGE: Range = { min: 1, max: 100, unit: 'packets' }
export const ARP_INTERVAL_RANGE: Range = { min: 1, max: 10000, unit: 'milliseconds' }

type NumberField = { [S in SettingsSection]: { [K in keyof Settings[S]]: Settings[S][K] extends number ? [S, K] : never }[keyof Settings[S]] }[SettingsSection]
type StringField = { [S in SettingsSection]: { [K in keyof Settings[S]]: Settings[S][K] extends string ? [S, K] : never }[keyof Settings[S]] }[SettingsSection]

/** A whole number within `range`, stored in Settings[section][field]. */
function numberKey(key: string, [section, field]: NumberField, range: Range): SettingKey {
  const { min, max, unit } = range
  const parse = wholeNumber(min, max, unit)
  const slot = (s: Settings): Record<string, number> => s[section] as unknown as Record<string, number>
  return {
    section,
    key,
    defaultText: String(slot(defaultSettings())[field as string]),
    accepts: `${min}-${max}`,
    apply: (s, value) => {
      const n = parse(value)
      if (typeof n === 'string') return n
      slot(s)[field as string] = n
      return undefined
    },
  }
}

/** Why a path or command line is refused: control characters (a log or a shell would misread them). */
function controlCharacters(value: string): string | undefined {
  return /[\x00-\x1f\x7f]/.test(value) ? `${quote(value)} contains control characters` : undefined
}

/** An absolute path, stored in Settings[section][field]. */
function absolutePathKey(key: string, [section, field]: StringField): SettingKey {
  const slot = (s: Settings): Record<string, string> => s[section] as unknown as Record<string, string>
  return {
    section,
    key,
    defaultText: slot(defaultSettings())[field as string] ?? '',
    accepts: 'an absolute path',
    apply: (s, value) => {
      if (!value.startsWith('/')) return `${quote(value)} is not an absolute path`
      const why = controlCharacters(value)
      if (why !== undefined) return why
      slot(s)[field as string] = value
      return undefined
    },
  }
}

const DOWN_ACTIONS: readonly LvsDownAction[] = ['remove', 'quiesce']

/** Every key, in the order the comment block above documents them. */
export const SETTING_KEYS: readonly SettingKey[] = [
  numberKey('status_copies', ['membership', 'statusCopies'], { min: 1, max: 5, unit: 'copies' }),
  numberKey('arp_count', ['ipaddr', 'arpCount'], ARP_COUNT_RANGE),
  numberKey('arp_interval_ms', ['ipaddr', 'arpIntervalMs'], ARP_INTERVAL_RANGE),
  {
    section: 'lvs',
    key: 'down_action',
    defaultText: 'remove',
    accepts: DOWN_ACTIONS.join(' | '),
    apply: (s, value) => {
      const v = DOWN_ACTIONS.find((a) => a === value)
      if (v === undefined) return `${quote(value)} is not ${DOWN_ACTIONS.join(' or ')}${didYouMean(value, DOWN_ACTIONS)}`
      s.lvs.downAction = v
      return undefined
    },
  },
  absolutePathKey('rules_file', ['lvs', 'rulesFile']),
  numberKey('timeout_ms', ['agents', 'timeoutMs'], { min: 1000, max: 3600000, unit: 'milliseconds' }),
  {
    section: 'agents',
    key: 'site_scripts',
    defaultText: '',
    accepts: 'resource names',
    apply: (s, value) => {
      const names = value.split(/[\s,]+/).filter((n) => n !== '')
      // a name is looked up as a file in resource.d: no path, no control characters
      const bad = names.find((n) => !/^[A-Za-z0-9_.+-]+$/.test(n) || n === '.' || n === '..')
      if (bad !== undefined) return `${quote(bad)} is not a resource name (a script name in resource.d)`
      s.agents.siteScripts = names
      return undefined
    },
  },
  {
    section: 'notify',
    key: 'command',
    defaultText: '',
    accepts: 'an absolute path, then arguments',
    apply: (s, value) => {
      const argv = value.trim().split(/\s+/)
      const path = argv[0] ?? ''
      if (!path.startsWith('/')) return `${quote(path)} is not an absolute path`
      const why = controlCharacters(value)
      if (why !== undefined) return why
      s.notify.command = argv
      return undefined
    },
  },
  numberKey('timeout_ms', ['notify', 'timeoutMs'], { min: 100, max: 600000, unit: 'milliseconds' }),
  numberKey('max_running', ['notify', 'maxRunning'], { min: 1, max: 64, unit: 'hooks' }),
  absolutePathKey('textfile', ['metrics', 'textfile']),
  numberKey('interval_ms', ['metrics', 'intervalMs'], { min: 1000, max: 3600000, unit: 'milliseconds' }),
]

const SECTIONS: readonly SettingsSection[] = ['membership', 'ipaddr', 'lvs', 'agents', 'notify', 'metrics']

// The line shapes ini's decode recognises (a header must start the line; anything else with a name is a key).
const HEADER = /^\[([^\]]*)\]\s*$/
const KEY_LINE = /^([^=]+)(=(.*))?$/
const COMMENT = /^\s*[;#]/

/** ini's unquoting of a section or key name: trimmed, surrounding quotes removed. */
function unquoteName(raw: string): string {
  const s = raw.trim()
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) return s.slice(1, -1)
  return s
}

/**
 * Read heartbeat-ts.conf. ini reads each value (quotes, escapes, trailing comments); the walk over the
 * lines gives sections and line numbers, so every diagnostic names its line. Never throws.
 */
export function parseSettings(text: string, path: string): { settings: Settings; diagnostics: Diagnostic[] } {
  const settings = defaultSettings()
  const diagnostics: Diagnostic[] = []
  const report = (severity: Diagnostic['severity'], line: number, message: string): void => {
    diagnostics.push({ path, line, severity, message })
  }
  const seen = new Map<string, number>()
  let section: SettingsSection | undefined
  let inUnknownSection = false

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)
  lines.forEach((raw, i) => {
    const lineNo = i + 1
    if (raw.trim() === '' || COMMENT.test(raw)) return
    const header = HEADER.exec(raw)
    if (header) {
      const name = unquoteName(header[1] ?? '')
      section = SECTIONS.find((s) => s === name)
      inUnknownSection = section === undefined
      if (inUnknownSection) report('warning', lineNo, `unknown section ${quote(`[${name}]`)}${didYouMean(name, SECTIONS)}; its keys are ignored`)
      return
    }
    if (/^\s+\[[^\]]*\]\s*$/.test(raw)) {
      report('error', lineNo, `${quote(raw)}: a section header must start at the beginning of the line`)
      section = undefined
      inUnknownSection = true
      return
    }
    const kv = KEY_LINE.exec(raw)
    if (!kv) {
      report('error', lineNo, `${quote(raw)} is not "key = value"`)
      return
    }
    const keyRaw = unquoteName(kv[1] ?? '')
    if (inUnknownSection) return
    if (section === undefined) {
      const home = SETTING_KEYS.find((k) => k.key === keyRaw)
      const where = home === undefined ? '' : ` (it belongs under [${home.section}])`
      report('warning', lineNo, `${quote(keyRaw)} is outside any section and is ignored${where}`)
      return
    }
    const current = section
    const spec = SETTING_KEYS.find((k) => k.section === current && k.key === keyRaw)
    if (spec === undefined) {
      const here = SETTING_KEYS.filter((k) => k.section === current).map((k) => k.key)
      const elsewhere = closest(keyRaw, here) === undefined ? SETTING_KEYS.find((k) => k.key === closest(keyRaw, [k.key])) : undefined
      const hint =
        elsewhere === undefined
          ? didYouMean(keyRaw, here)
          : elsewhere.key === keyRaw
            ? ` (${elsewhere.key} belongs under [${elsewhere.section}])`
            : ` (did you mean ${quote(elsewhere.key)} under [${elsewhere.section}]?)`
      report('warning', lineNo, `[${current}]: unknown key ${quote(keyRaw)}${hint}; ignored`)
      return
    }
    const name = `${spec.section}.${spec.key}`
    const earlier = seen.get(name)
    if (earlier !== undefined) report('warning', lineNo, `[${spec.section}] ${spec.key} is set again (first on line ${earlier}); this later value wins`)
    else seen.set(name, lineNo)

    if (kv[2] === undefined) {
      report('error', lineNo, `[${spec.section}] ${spec.key}: needs a value (${spec.key} = ${spec.accepts})`)
      return
    }
    const value = iniValue(raw, keyRaw)
    if (value === undefined || value.trim() === '') {
      report('error', lineNo, `[${spec.section}] ${spec.key}: needs a value (${spec.key} = ${spec.accepts})`)
      return
    }
    const why = spec.apply(settings, value)
    if (why !== undefined) report('error', lineNo, `[${spec.section}] ${spec.key}: ${why}`)
  })
  return { settings, diagnostics }
}

/** The value ini reads for this one line, as text (`true`/`false`/`null` come back as written). */
function iniValue(line: string, key: string): string | undefined {
  let decoded: Record<string, unknown>
  try {
    decoded = decode(line)
  } catch {
    return undefined
  }
  const v = decoded[key] ?? Object.values(decoded)[0]
  if (typeof v === 'string') return v
  if (typeof v === 'boolean' || v === null) return String(v)
  return undefined
}
