// Where the daemon keeps its files: heartbeat's paths by default, each movable for tests.
// Pure: the environment is an argument, read once by the caller at the edge.

export interface DaemonPaths {
  /** ha.cf, haresources, authkeys, nodeinfo, resource.d, rc.d. */
  haDir: string
  /** hb_generation, hb_uuid, the FIFO, hostcache. */
  stateDir: string
  /**
   * Control socket and other runtime files: a root-owned 0700 directory of our own, not heartbeat's
   * /run/heartbeat (Debian makes that 0750 hacluster:haclient, so that account could plant links there).
   */
  runDir: string
  /** heartbeat's pidfile. */
  pidFile: string
  /** mon.cf for the built-in real-server monitor. */
  monCf: string
}

/** Our run directory; see DaemonPaths.runDir. */
export const DEFAULT_RUN_DIR = '/run/heartbeat-ts'

type Env = Readonly<Record<string, string | undefined>>

/** heartbeat's defaults, overridden by HBTS_HA_DIR, HBTS_STATE_DIR, HBTS_RUN_DIR, HBTS_PIDFILE, HBTS_MON_CF. */
export function daemonPaths(env: Env): DaemonPaths {
  return {
    haDir: env.HBTS_HA_DIR ?? '/etc/ha.d',
    stateDir: env.HBTS_STATE_DIR ?? '/var/lib/heartbeat',
    runDir: env.HBTS_RUN_DIR ?? DEFAULT_RUN_DIR,
    pidFile: env.HBTS_PIDFILE ?? '/var/run/heartbeat.pid',
    monCf: env.HBTS_MON_CF ?? '/etc/mon/mon.cf',
  }
}

export function fifoPath(paths: DaemonPaths): string {
  return joinPath(paths.stateDir, 'fifo')
}

export function controlSocketPath(paths: DaemonPaths): string {
  return joinPath(paths.runDir, 'hbctl.sock')
}

/** `dir` + '/' + `name` without node:path (this module is pure); a trailing slash on dir is not doubled. */
function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`
}
