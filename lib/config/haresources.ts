// haresources as heartbeat 3.0.6 checks it (config.c parse_ha_resources) and ResourceManager reads it.

import { quote, type Diagnostic } from './diagnostics.js'
import { didYouMean } from './did-you-mean.js'
import { parseIpaddrSpec } from './ipaddr-spec.js'
import { WHITESPACE, span, splitLines } from './line-tokenizer.js'

export interface ResourceRef {
  /** The script run from resource.d (or /etc/init.d): `IPaddr` for a bare address. */
  agent: string
  /** Arguments passed before the action (`name::a::b` → [a, b]). */
  args: string[]
  /** The resource exactly as written in the file. */
  text: string
}

export interface ResourceGroup {
  /** The preferred node, lowercased (ResourceManager lowercases the first field). */
  node: string
  /** The group key: the first resource as written; ResourceManager finds groups by it. */
  key: string
  /** Start order (stop is the reverse). */
  resources: ResourceRef[]
  /** The first physical line of the group. */
  line: number
}

/** ResourceManager isip: the shell glob [0-9]*.[0-9]*.[0-9]*.[0-9]* */
const IP_GLOB = /^[0-9][^]*\.[0-9][^]*\.[0-9][^]*\.[0-9][^]*$/
/** Agents that take the `ip[/cidr[/nic][/bcast]]` spec as their one argument. */
const IPADDR_AGENTS = ['IPaddr', 'IPaddr2']

/**
 * Parse haresources. `nodes` are ha.cf's node names. Never throws. Beyond heartbeat's own
 * start-up check (known node names), resource problems are reported as errors too: they would
 * otherwise surface only when a group is taken over.
 */
export function parseHaresources(text: string, path: string, nodes: readonly string[]): { groups: ResourceGroup[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const error = (line: number, message: string): void => {
    diagnostics.push({ path, line, severity: 'error', message })
  }
  const warn = (line: number, message: string): void => {
    diagnostics.push({ path, line, severity: 'warning', message })
  }
  const known = nodes.map((n) => n.toLowerCase())
  const lines = splitLines(text).map((l) => l.text)

  // config.c's check skips lines continued by a backslash without stripping comments first;
  // ResourceManager strips the comment first, so a backslash inside a comment continues only for heartbeat
  for (const [i, raw] of lines.entries()) {
    const body = raw.slice(span(raw, WHITESPACE))
    if (body.startsWith('#') || !raw.endsWith('\\')) continue
    if (!raw.replace(/#.*/, '').endsWith('\\')) {
      warn(i + 1, `the backslash is inside a comment: heartbeat's check takes the next line as a continuation, ResourceManager does not`)
    }
  }

  // ResourceManager ipres: strip comments, join backslash-continued lines (the joined lines keep
  // their comments), collapse blanks, lowercase the node
  const groups: ResourceGroup[] = []
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1
    let logical = (lines[i] ?? '').replace(/#.*/, '')
    if (/\\[ \t]+$/.test(logical)) warn(first, `a backslash followed by blanks does not continue the line`)
    while (logical.endsWith('\\')) {
      if (i + 1 >= lines.length) {
        warn(i + 1, `the last line ends with a backslash; there is no line to continue`)
        logical = logical.slice(0, -1)
        break
      }
      i++
      const next = lines[i] ?? ''
      if (next.includes('#')) {
        const word = next.slice(next.indexOf('#')).split(/[ \t]+/)[0] ?? '#'
        error(i + 1, `comment on a continued line: ResourceManager does not strip it and would run ${quote(word)} as a resource`)
      }
      // sed 's/\\\n//': the backslash and newline go, nothing is put in their place
      logical = logical.slice(0, -1) + next
    }
    const words = logical.split(/[ \t]+/).filter((w) => w !== '')
    if (words.length === 0) continue
    if (words.some((w) => w.includes('\r'))) {
      error(first, `carriage return in the line (DOS line endings?): ResourceManager would read ${quote(words.find((w) => w.includes('\r')) ?? '')} as part of a name`)
    }
    const [nodeWord, ...resourceWords] = words
    const node = (nodeWord ?? '').toLowerCase()
    // config.c parse_ha_resources: heartbeat does not start when a group names an unknown node
    if (!known.includes(node)) error(first, `group for node ${quote(nodeWord ?? '')}, which ha.cf does not list${didYouMean(node, known)}`)
    if (resourceWords.length === 0) {
      error(first, `group for node ${quote(nodeWord ?? '')} has no resources`)
      continue
    }
    const resources: ResourceRef[] = []
    for (const word of resourceWords) {
      const parsed = parseResource(word)
      if (!parsed.ok) {
        error(first, parsed.message)
        continue
      }
      for (const note of parsed.notes) warn(first, note)
      resources.push(parsed.value)
    }
    groups.push({ node, key: resourceWords[0] ?? '', resources, line: first })
  }

  // keys must be unique, and ResourceManager finds a group by searching " key " in every line
  for (const [n, group] of groups.entries()) {
    for (const other of groups.slice(0, n)) {
      if (other.key === group.key) {
        error(group.line, `group key ${quote(group.key)} is also the key of the group on line ${other.line}; keys must be unique`)
      }
    }
    for (const other of groups) {
      if (other === group) continue
      if (other.resources.slice(1).some((r) => r.text === group.key)) {
        error(other.line, `resource ${quote(group.key)} is the key of the group on line ${group.line}: ResourceManager looks groups up by key anywhere in a line and would take both lines as one group`)
      }
    }
  }
  return { groups, diagnostics }
}

type ResourceResult = { ok: true; value: ResourceRef; notes: string[] } | { ok: false; message: string }

/** One resource word: a bare address (IPaddr), `name`, or `name::arg::arg`. */
export function parseResource(word: string): ResourceResult {
  const notes: string[] = []
  if (word === '\\') return { ok: false, message: `stray backslash: ResourceManager would run ${quote(word)} as a resource` }
  if (IP_GLOB.test(word) && !word.includes('::')) {
    const spec = parseIpaddrSpec(word)
    if (!spec.ok) return { ok: false, message: `IPaddr resource: ${spec.message}` }
    return { ok: true, value: { agent: 'IPaddr', args: [word], text: word }, notes }
  }
  const sep = word.indexOf('::')
  const agent = sep < 0 ? word : word.slice(0, sep)
  if (agent === '') return { ok: false, message: `resource ${quote(word)} has no script name before "::"` }
  if (/^[0-9]/.test(agent) && sep < 0) {
    return { ok: false, message: `${quote(word)} starts with a digit but is not an address (ip[/cidr[/nic][/broadcast]]); ResourceManager would look for a script of that name` }
  }
  if (agent.includes('/') || agent.includes(':')) {
    return { ok: false, message: `resource ${quote(word)}: ${quote(agent)} is not a script name (no "/" or ":")` }
  }
  let args: string[] = []
  if (sep >= 0) {
    const parts = word.slice(sep + 2).split('::')
    // the shell's word splitting drops empty arguments
    args = parts.filter((p) => p !== '')
    if (args.length < parts.length) notes.push(`resource ${quote(word)}: empty arguments between "::" are dropped`)
  }
  if (IPADDR_AGENTS.includes(agent)) {
    if (args.length !== 1) {
      return { ok: false, message: `resource ${quote(word)}: ${agent} takes exactly one argument, ip[/cidr[/nic][/broadcast]]` }
    }
    const spec = parseIpaddrSpec(args[0] ?? '')
    if (!spec.ok) return { ok: false, message: `${agent} resource: ${spec.message}` }
  }
  return { ok: true, value: { agent, args, text: word }, notes }
}
