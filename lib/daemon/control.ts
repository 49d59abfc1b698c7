// The daemon's control side: the hbctl/cl_status socket and heartbeat's FIFO, opened for one daemon life.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startControlServer, type ControlServer } from '../io/control-socket.js'
import { openFifoReader, type FifoReader } from '../io/fifo.js'
import { processAlive } from '../io/pidfile.js'
import { controlSocketPath, fifoPath, type DaemonPaths } from '../config/paths.js'
import { parseMonState } from '../monitor/mon-state.js'
import { realServersFromMonState } from './status-snapshot.js'
import type { ClusterStatus, RealServerStatus } from '../control/cluster-status.js'
import type { ControlRequest, ControlResponse } from '../control/protocol.js'
import type { HaMessage } from '../wire/message.js'
import type { StandbyArg } from '../resources/resource-sets.js'
import type { LogLevel } from '../io/logger.js'

type Env = Readonly<Record<string, string | undefined>>

export interface ControlHooks {
  paths: DaemonPaths
  /** The snapshot as of now. */
  status(): Promise<ClusterStatus>
  /** auto_failback in force, and whether ha.cf wrote it; undefined when resources are not managed. */
  resourceMode(): { mode: 'legacy' | 'on' | 'off'; written: boolean } | undefined
  standby(arg: StandbyArg): void
  takeover(arg: StandbyArg): void
  /** What SIGHUP does; the outcome in words. */
  reload(): Promise<{ ok: boolean; message: string }>
  /** A message a local script wrote into the FIFO. */
  fifoMessage(msg: HaMessage): void
  /** hbctl metrics: the counters in Prometheus text format. */
  metrics?(): string
  log(level: LogLevel, text: string): void
}

export interface DaemonControl {
  close(): Promise<void>
}

/**
 * hb_standby/hb_takeover only work with nice_failback (§10.4): under legacy the peer ignores
 * ask_resources. Refused with init.d/heartbeat's words (StandbyHA).
 */
export function legacyRefusal(mode: { mode: 'legacy' | 'on' | 'off'; written: boolean } | undefined, what: 'standby' | 'takeover'): string | undefined {
  if (mode === undefined) return 'resources are not managed by heartbeat here (heartbeat -M or pacemaker on)'
  if (mode.mode !== 'legacy') return undefined
  const head = mode.written ? 'auto_failback is set to legacy.' : 'auto_failback defaulted to legacy.'
  return `${head}  Cannot ${what === 'standby' ? 'enter standby' : 'take over'}.`
}

/** One control request → its answer. Exported for tests. */
export async function answerControl(req: ControlRequest, h: ControlHooks): Promise<ControlResponse> {
  switch (req.type) {
    case 'status':
      return { ok: true, type: 'status', status: await h.status() }
    case 'standby':
    case 'takeover': {
      const refusal = legacyRefusal(h.resourceMode(), req.type)
      if (refusal !== undefined) return { ok: false, code: 'refused', error: refusal }
      if (req.type === 'standby') {
        // hb_standby: failback means foreign (the message carries rsc_hold=foreign).
        const arg: StandbyArg = req.resources === 'failback' ? 'foreign' : req.resources
        h.log('info', `hbctl standby ${req.resources}: asking the peer to take ${arg} resources`)
        h.standby(arg)
        return { ok: true, type: 'done', message: `Going standby [${arg}].` }
      }
      h.log('info', `hbctl takeover ${req.resources}: asking the peer to give ${req.resources} resources`)
      h.takeover(req.resources)
      return { ok: true, type: 'done', message: `Takeover [${req.resources}] requested from the peer.` }
    }
    case 'metrics':
      return h.metrics ? { ok: true, type: 'metrics', text: h.metrics() } : { ok: false, code: 'bad-request', error: 'metrics are not kept by this daemon' }
    case 'reload': {
      const r = await h.reload()
      return r.ok ? { ok: true, type: 'done', message: r.message } : { ok: false, code: 'refused', error: r.message }
    }
  }
}

/** hb-mon's state file: --state / HBTS_MON_STATE, else <runDir>/mon-state.json (lib/cli/hb-mon.ts hbMonPaths). */
export function monStatePath(paths: DaemonPaths, env: Env): string {
  return env.HBTS_MON_STATE ?? join(paths.runDir, 'mon-state.json')
}

/** Real servers when hb-mon runs here (its state file present and its pid alive), else null. */
export async function readRealServers(stateFile: string): Promise<RealServerStatus[] | null> {
  let text: string
  try {
    text = await readFile(stateFile, 'utf8')
  } catch {
    return null
  }
  const parsed = parseMonState(text)
  if (!parsed.ok) return null
  return realServersFromMonState(parsed.state, processAlive(parsed.state.pid))
}

/**
 * Open the control socket and the FIFO. Either failing is logged and the daemon runs on without
 * it: heartbeat keeps its cluster duties even when a local tool cannot reach it.
 */
export async function startDaemonControl(h: ControlHooks): Promise<DaemonControl> {
  let server: ControlServer | undefined
  let fifo: FifoReader | undefined
  const sockPath = controlSocketPath(h.paths)
  try {
    server = await startControlServer(sockPath, (req) => answerControl(req, h))
  } catch (err) {
    h.log('error', `control socket ${sockPath}: ${(err as Error).message}; hbctl and cl_status will not reach this daemon`)
  }
  const fp = fifoPath(h.paths)
  try {
    fifo = await openFifoReader(fp, {
      onMessage: (msg) => h.fifoMessage(msg),
      onProblem: (reason) => h.log('warn', `FIFO ${fp}: ${reason}`),
    })
  } catch (err) {
    h.log('error', `FIFO ${fp}: ${(err as Error).message}; hb_standby, hb_takeover and mach_down will not reach this daemon`)
  }
  return {
    async close() {
      await Promise.all([server?.close(), fifo?.close()])
    },
  }
}
