// cl_status's answers (heartbeat 3.0.6 tools/cl_status): argv + a status snapshot → stdout, stderr, exit code.
// Pure; lib/cli/cl-status.ts fetches the snapshot and prints.

import type { ClusterStatus, NodeStatus } from './cluster-status.js'

export interface ClAnswer {
  stdout: string
  stderr: string
  exitCode: number
}

/** cl_status exit codes. */
export const CL = { ok: 0, fail: 1, parameterError: 11, timeout: 12, unknownError: 13 } as const

/** What the local daemon said: a snapshot, nobody there, or a socket we may not use. */
export type ClSource =
  | { kind: 'running'; status: ClusterStatus }
  | { kind: 'stopped' }
  | { kind: 'refused'; reason: string }

/**
 * cl_log's stderr line prefix, e.g. `Nov 25 17:39:50 titanic5.etri.re.kr cl_status: [2346]: `.
 * The caller builds it (clock, host, pid are I/O).
 */
export type LogPrefix = string

export const CL_STATUS_HELP = `Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
\tShow the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
\tShow the status of a heartbeat link
hbstatus
\tIndicate if heartbeat is running on the local system.
\tOptions:
\t\t-v\tverbose: also add "listnodes -v" output
listnodes [<option>]
\tList the nodes in the cluster.
\tOptions:
\t\t-p\tlist only 'ping' type nodes
\t\t-n\tlist only 'normal' type nodes
\t\t-v\tverbose: also list type and status,
\t\t\tthen add "listhblinks -v" output
listhblinks <node-name>
\tList the network interfaces used as hearbeat links.
\tOptions:
\t\t-v\tverbose: list link status as well
nodestatus <node-name>
\tList the node status.
nodeweight <node-name>
\tList the node weight.
nodesite <node-name>
\tList the node site.
nodetype <node-name>
\tList the nodes of a given type.
rscstatus
\tShow the status of cluster resources.
hbparameter -p <parameter-name>
\tRetrieve the value of a cluster parameter.
\tAs for the valid parameter names, please refer to the man page.
`

/** Option letters each sub-command accepts (a trailing ':' takes an argument), and whether it needs the daemon. */
const SUBCOMMANDS: Record<string, { optstr: string; needsDaemon: boolean }> = {
  hbstatus: { optstr: 'mv', needsDaemon: false },
  listnodes: { optstr: 'mpnv', needsDaemon: true },
  nodestatus: { optstr: 'm', needsDaemon: true },
  nodeweight: { optstr: 'm', needsDaemon: true },
  nodesite: { optstr: 'm', needsDaemon: true },
  nodetype: { optstr: 'm', needsDaemon: true },
  listhblinks: { optstr: 'mv', needsDaemon: true },
  hblinkstatus: { optstr: 'm', needsDaemon: true },
  clientstatus: { optstr: 'm', needsDaemon: true },
  rscstatus: { optstr: 'm', needsDaemon: true },
  hbparameter: { optstr: 'mp:', needsDaemon: true },
}

interface Opts {
  flags: Set<string>
  values: Map<string, string>
  positionals: string[]
  /** getopt's complaints, already worded. */
  errors: string[]
}

/** GNU getopt as cl_status calls it (options may follow operands; `--` ends options). */
function getopt(cmd: string, args: readonly string[], optstr: string): Opts {
  const o: Opts = { flags: new Set(), values: new Map(), positionals: [], errors: [] }
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? ''
    if (a === '--') {
      o.positionals.push(...args.slice(i + 1))
      break
    }
    if (!a.startsWith('-') || a === '-') {
      o.positionals.push(a)
      continue
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j] ?? ''
      const at = optstr.indexOf(c)
      if (c === ':' || at < 0) {
        o.errors.push(`${cmd}: invalid option -- '${c}'\n`)
        continue
      }
      if (optstr[at + 1] === ':') {
        const rest = a.slice(j + 1)
        const val = rest !== '' ? rest : args[++i]
        if (val === undefined) o.errors.push(`${cmd}: option requires an argument -- '${c}'\n`)
        else o.values.set(c, val)
        break
      }
      o.flags.add(c)
    }
  }
  return o
}

/** cl_status walks the node list from the end: on both directors it prints titanic6 before titanic5. */
function walkOrder(status: ClusterStatus): NodeStatus[] {
  return status.nodes.slice().reverse()
}

function findNode(status: ClusterStatus, name: string): NodeStatus | undefined {
  const want = name.toLowerCase()
  return status.nodes.find((n) => n.name.toLowerCase() === want)
}

function linksText(node: NodeStatus, verbose: boolean, human: boolean): string {
  const head = human ? '\tthis node has the following heartbeat links:\n' : ''
  return head + node.links.map((l) => (verbose ? `\t${l.name}\t${l.status}\n` : `\t${l.name}\n`)).join('')
}

function nodesText(status: ClusterStatus, normalOnly: boolean, pingOnly: boolean, verbose: boolean, human: boolean): string {
  // Both -n and -p: neither filter applies.
  const both = normalOnly && pingOnly
  let out = human ? 'The nodes are as follow:\n' : ''
  for (const n of walkOrder(status)) {
    if (!both && normalOnly && n.type !== 'normal') continue
    if (!both && pingOnly && n.type !== 'ping') continue
    out += verbose ? `\n${n.name}\t${n.status}\t(nodetype: ${n.type})\n${linksText(n, true, human)}` : `${n.name}\n`
  }
  return out
}

/** Answer `cl_status <argv...>` the way 3.0.6 does, given what the local daemon said. */
export function clStatusAnswer(argv: readonly string[], source: ClSource, logPrefix: LogPrefix): ClAnswer {
  const err = (...msgs: string[]) => msgs.map((m) => `${logPrefix}ERROR: ${m}\n`).join('')
  const [cmd, ...args] = argv
  if (cmd === undefined || (argv.length === 1 && cmd === '-h')) return { stdout: CL_STATUS_HELP, stderr: '', exitCode: CL.ok }
  const spec = SUBCOMMANDS[cmd]
  if (spec === undefined) return { stdout: '', stderr: err(`${cmd}: invalid sub-command.`), exitCode: CL.parameterError }

  if (source.kind !== 'running' && spec.needsDaemon) {
    const reason = source.kind === 'refused' ? source.reason : "hb_api_signon: Can't initiate connection to heartbeat"
    return { stdout: '', stderr: err('Cannot signon with heartbeat', `REASON: ${reason}`), exitCode: CL.fail }
  }

  const o = getopt(cmd, args, spec.optstr)
  const human = o.flags.has('m')
  const verbose = o.flags.has('v')
  const getoptErr = o.errors.join('')
  const badOption = (code: boolean): ClAnswer => ({
    stdout: '',
    stderr: getoptErr + err(`Error: getopt returned character${code ? ' code' : ''} ?.`),
    exitCode: CL.parameterError,
  })

  if (cmd === 'hbstatus') {
    // hbstatus ignores options it does not know (getopt still complains).
    if (source.kind === 'stopped') return { stdout: 'Heartbeat is stopped on this machine.\n', stderr: getoptErr, exitCode: CL.fail }
    if (source.kind === 'refused') {
      const why = verbose && source.reason !== '' ? `(${source.reason})\n` : ''
      return { stdout: `Heartbeat is apparently running on this machine, but refuses my connection\n${why}`, stderr: getoptErr, exitCode: CL.ok }
    }
    if (!verbose) return { stdout: 'Heartbeat is running on this machine.\n', stderr: getoptErr, exitCode: CL.ok }
    const s = source.status
    const head = human
      ? `Heartbeat version ${s.version}\nResources controlled by "haresources"\n`
      : `version:\t${s.version}\nmanaged by:\t"haresources"\n`
    return { stdout: head + nodesText(s, false, false, true, human), stderr: getoptErr, exitCode: CL.ok }
  }
  if (source.kind !== 'running') throw new Error('unreachable: needsDaemon handled above')
  const s = source.status
  const need = (n: number, words: string): ClAnswer | undefined =>
    o.positionals.length < n ? { stdout: '', stderr: `${words}\n`, exitCode: CL.parameterError } : undefined

  switch (cmd) {
    case 'listnodes':
      if (o.errors.length > 0) return badOption(true)
      return { stdout: nodesText(s, o.flags.has('n'), o.flags.has('p'), verbose, human), stderr: '', exitCode: CL.ok }

    case 'nodestatus': {
      if (o.errors.length > 0) return badOption(false)
      const missing = need(1, 'Not enough parameters.')
      if (missing) return missing
      const name = o.positionals[0] ?? ''
      const n = findNode(s, name)
      if (!n) return { stdout: '', stderr: 'Error. May be due to incorrect node name\n', exitCode: CL.parameterError }
      const out = human ? `The cluster node ${name} is ${n.status}\n` : `${n.status}\n`
      const alive = n.status === 'active' || n.status === 'up' || n.status === 'ping'
      return { stdout: out, stderr: '', exitCode: alive ? CL.ok : CL.fail }
    }

    case 'nodeweight': {
      if (o.errors.length > 0) return badOption(false)
      const missing = need(1, 'Not enough parameters.')
      if (missing) return missing
      const name = o.positionals[0] ?? ''
      const n = findNode(s, name)
      if (!n) return { stdout: '', stderr: 'Error. Maybe due to incorrect node name.\n', exitCode: CL.parameterError }
      return { stdout: human ? `The weight of the cluster node ${name} is ${n.weight}\n` : `${n.weight}\n`, stderr: '', exitCode: CL.ok }
    }

    case 'nodesite': {
      if (o.errors.length > 0) return badOption(false)
      const missing = need(1, 'Not enough parameters.')
      if (missing) return missing
      const name = o.positionals[0] ?? ''
      const n = findNode(s, name)
      if (!n) return { stdout: '', stderr: 'Error. May be due to incorrect node name\n', exitCode: CL.parameterError }
      return { stdout: human ? `The site of the cluster node ${name} is ${n.site}\n` : `${n.site}\n`, stderr: '', exitCode: CL.ok }
    }

    case 'nodetype': {
      if (o.errors.length > 0) return badOption(false)
      const missing = need(1, 'No enough parameter.')
      if (missing) return missing
      const name = o.positionals[0] ?? ''
      const n = findNode(s, name)
      // The man page's "nodetype ping|normal" is not how it works: it takes a node name.
      if (!n) return { stdout: '', stderr: 'Error. May be due to incorrect node name\n', exitCode: CL.parameterError }
      return { stdout: human ? `The node ${name}'s type: ${n.type}\n` : `${n.type}\n`, stderr: '', exitCode: CL.ok }
    }

    case 'listhblinks': {
      if (o.errors.length > 0) return badOption(true)
      const missing = need(1, 'No enough parameter.')
      if (missing) return missing
      const n = findNode(s, o.positionals[0] ?? '')
      // The real daemon's API refuses the walk for a node it does not know with EINVAL (seen on 3.0.6).
      if (!n) return { stdout: '', stderr: err('Cannot start heartbeat link interface walk.', 'REASON: EINVAL'), exitCode: CL.unknownError }
      return { stdout: linksText(n, verbose, human), stderr: '', exitCode: CL.ok }
    }

    case 'hblinkstatus': {
      if (o.errors.length > 0) return badOption(false)
      const missing = need(2, 'No enough parameter.')
      if (missing) return missing
      const [name = '', ifname = ''] = o.positionals
      const link = findNode(s, name)?.links.find((l) => l.name === ifname)
      if (!link) return { stdout: '', stderr: err('Cannot get heartbeat link status', 'REASON: '), exitCode: CL.unknownError }
      const out = human ? `The node ${name}'s heartbeat link ${ifname} is ${link.status}\n` : `${link.status}\n`
      return { stdout: out, stderr: '', exitCode: link.status === 'up' ? CL.ok : CL.fail }
    }

    case 'clientstatus': {
      if (o.errors.length > 0) return badOption(false)
      const missing = need(2, 'No enough parameter.')
      if (missing) return missing
      const [name = '', client = ''] = o.positionals
      // heartbeat-ts has no API clients (ipfail, ccm, ...): every client of a known node is offline.
      if (!findNode(s, name)) {
        return { stdout: '', stderr: err(`Cannot get heartbeat client ${client}'s status`, 'REASON: '), exitCode: CL.unknownError }
      }
      return { stdout: 'offline\n', stderr: '', exitCode: CL.fail }
    }

    case 'rscstatus':
      if (o.errors.length > 0) return badOption(false)
      return { stdout: human ? `This node is holding ${s.rscstatus} resources.\n` : `${s.rscstatus}\n`, stderr: '', exitCode: CL.ok }

    case 'hbparameter': {
      if (o.errors.length > 0) return badOption(true)
      const name = o.values.get('p')
      if (name === undefined) return { stdout: '', stderr: err('parameter name required'), exitCode: CL.parameterError }
      const value = Object.hasOwn(s.parameters, name) ? s.parameters[name] : undefined
      if (value === undefined) return { stdout: '', stderr: err(`Cannot get parameter ${name}'s value`, 'REASON: '), exitCode: CL.fail }
      return { stdout: human ? `Heartbeat parameter ${name}'s value: ${value}\n` : `${value}\n`, stderr: '', exitCode: CL.ok }
    }
  }
  return { stdout: '', stderr: err(`${cmd}: invalid sub-command.`), exitCode: CL.parameterError }
}
