// Stand-in for ipvsadm 1.31 in tests (this kernel has no IPVS): same CLI, errors, exit codes and -L/-S output; the table lives in a JSON file.

import { statSync, readFileSync, writeFileSync, mkdirSync, rmSync, renameSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { dirname } from 'node:path'
import { Exit, fail, parseCommand, tryHelp } from './ipvsadm-standin-args.js'
import { listLines, saveLines, sortedServices, TITLE, USAGE_TEXT } from './ipvsadm-standin-output.js'
import { emptyState, findService, kernel, type StandinState } from './ipvsadm-standin-table.js'

export type { Fwd, Proto } from './ipvsadm-standin-args.js'
export { emptyState } from './ipvsadm-standin-table.js'
export type { Dest, Service, StandinState } from './ipvsadm-standin-table.js'

export interface StandinIo {
  stdin: string
  /** Addresses of this host: destinations on them show as `Local`. */
  localAddrs: ReadonlySet<string>
}

export interface StandinResult {
  exitCode: number
  stdout: string
  stderr: string
}

// ---- entry -----------------------------------------------------------------------------------

/** Runs one ipvsadm invocation against `state` (mutated in place), like the real program would against the kernel. */
export function runIpvsadm(argv: readonly string[], state: StandinState, io: StandinIo): StandinResult {
  const out: string[] = []
  const err: string[] = []
  const finish = (exitCode: number): StandinResult => ({ exitCode, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') })
  try {
    if (argv.length === 0) {
      out.push('IP Virtual Server version 1.2.1 (size=4096)', ...TITLE, ...listLines(sortedServices(state), false, io.localAddrs))
      return finish(0)
    }
    return finish(processLine(argv, state, io, false, out, err))
  } catch (x) {
    if (!(x instanceof Exit)) throw x
    if (x.text === 'USAGE') {
      out.push(USAGE_TEXT.trimEnd())
      return finish(0)
    }
    if (x.text === 'VERSION') {
      out.push('ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)')
      return finish(0)
    }
    err.push(x.text)
    return finish(x.code)
  }
}

function processLine(argv: readonly string[], state: StandinState, io: StandinIo, readingStdin: boolean, out: string[], err: string[]): number {
  const e = parseCommand(argv)
  switch (e.cmd) {
    case 'list': {
      if (e.opts.has('stats') || e.opts.has('rate') || e.opts.has('thresholds') || e.opts.has('persistent-conn')) {
        fail(2, 'ipvsadm stand-in: --stats, --rate, --thresholds and --persistent-conn listings are not emulated')
      }
      if (e.opts.has('connection')) {
        out.push('IPVS connection entries', 'pro expire state       source             virtual            destination')
        return 0
      }
      if (e.opts.has('timeout')) {
        out.push(`Timeout (tcp tcpfin udp): ${state.timeouts.tcp} ${state.timeouts.tcpfin} ${state.timeouts.udp}`)
        return 0
      }
      if (e.opts.has('daemon')) {
        for (const d of state.daemons) out.push(`${d.state} sync daemon (mcast=${d.mcastIfn}, syncid=${d.syncid})`)
        return 0
      }
      const nosort = e.opts.has('nosort')
      if (e.opts.has('service-address')) {
        const svc = findService(state, e)
        if (svc === undefined) {
          err.push('No such service')
          return 1
        }
        out.push(...TITLE, ...listLines([svc], e.numeric, io.localAddrs))
        return 0
      }
      out.push('IP Virtual Server version 1.2.1 (size=4096)', ...TITLE, ...listLines(nosort ? state.services : sortedServices(state), e.numeric, io.localAddrs))
      return 0
    }
    case 'save':
      out.push(...saveLines(state, e.numeric))
      return 0
    case 'restore': {
      if (readingStdin) tryHelp()
      let result = 0
      for (const line of io.stdin.split('\n')) {
        const words = line.split(/[ \t\r]+/).filter((w) => w !== '' && w !== 'ipvsadm')
        if (words.length === 0) continue
        // A validation failure ends the whole restore (ipvsadm's fail() exits); kernel errors continue.
        result = processLine(words, state, io, true, out, err)
      }
      return result
    }
    default: {
      const kerr = kernel(state, e)
      if (kerr !== undefined) {
        err.push(kerr)
        return 255
      }
      return 0
    }
  }
}

/** IPVSADM_STANDIN_STATE, else one file per network namespace (keyed by the netns inode), so namespaced hosts never share a table. */
export function standinStatePath(env: Readonly<Record<string, string | undefined>>): string {
  const given = env.IPVSADM_STANDIN_STATE
  if (given !== undefined && given !== '') return given
  let ino = 'host'
  try {
    ino = String(statSync('/proc/self/ns/net').ino)
  } catch {
    // no /proc: one shared default
  }
  return `/run/ipvsadm-standin/netns-${ino}.json`
}

export function loadState(path: string): StandinState {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as StandinState
    if (Array.isArray(v.services)) return { ...emptyState(), ...v }
  } catch {
    // missing or damaged: an empty table, like a freshly loaded module
  }
  return emptyState()
}

function localAddresses(env: Readonly<Record<string, string | undefined>>): Set<string> {
  const given = env.IPVSADM_STANDIN_LOCAL
  if (given !== undefined) return new Set(given.split(',').map((s) => s.trim()).filter((s) => s !== ''))
  const set = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') set.add(a.address)
  return set
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** The executable's body: lock the state file, run, save, print. */
export function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, stdin: () => string): number {
  if (env.IPVSADM_STANDIN_NO_IPVS === '1') {
    process.stderr.write("Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n")
    return 2
  }
  const path = standinStatePath(env)
  mkdirSync(dirname(path), { recursive: true })
  const lock = `${path}.lock`
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (i > 200) {
        try {
          if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { recursive: true, force: true })
        } catch {
          // raced with its owner
        }
      }
      if (i > 400) {
        process.stderr.write(`ipvsadm stand-in: ${lock} is held\n`)
        return 2
      }
      sleepSync(25)
    }
  }
  try {
    const state = loadState(path)
    const needsStdin = argv.some((a) => a === '-R' || a === '--restore')
    const r = runIpvsadm(argv, state, { stdin: needsStdin ? stdin() : '', localAddrs: localAddresses(env) })
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify(state)}\n`)
    renameSync(tmp, path)
    process.stdout.write(r.stdout)
    process.stderr.write(r.stderr)
    return r.exitCode
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}