// Shutdown's sub-state as one value: hb_resource.c keeps it in three flags (rsc_needs_shutdown,
// shutdown_in_progress, resource_shutdown_started); the last two are always set together.
// Pure: hb_giveup_resources() as a transition; the resource manager carries out the effect.

export type ShutdownState =
  /** Nobody asked us to shut down. */
  | { phase: 'none' }
  /** rsc_needs_shutdown: asked while resources were in flux; retried whenever they may have settled. */
  | { phase: 'delayed' }
  /**
   * shutdown_in_progress + resource_shutdown_started: every group is being (or was) released and
   * `shutdone` follows. `repeatDelayed`: a further request came while in flux (rsc_needs_shutdown
   * again); once stable it only logs "already underway".
   */
  | { phase: 'underway'; repeatDelayed: boolean }

export const NO_SHUTDOWN: ShutdownState = { phase: 'none' }

/** What hb_giveup_resources() does on this call. */
export type GiveupEffect =
  /** Log "Shutdown delayed until current resource activity finishes." */
  | 'announce-delay'
  /** Still in flux and already said so: nothing. */
  | 'wait'
  /** Announce `resource none info=shutdown`, then release every group and send `shutdone`. */
  | 'release'
  /** Log "Heartbeat shutdown already underway." */
  | 'already-underway'

/** hb_giveup_resources(): a shutdown request (or its retry) with resources stable or not. */
export function giveupStep(s: ShutdownState, stable: boolean): { next: ShutdownState; effect: GiveupEffect } {
  if (!stable) {
    if (s.phase === 'none') return { next: { phase: 'delayed' }, effect: 'announce-delay' }
    if (s.phase === 'underway' && !s.repeatDelayed) return { next: { phase: 'underway', repeatDelayed: true }, effect: 'announce-delay' }
    return { next: s, effect: 'wait' }
  }
  const next: ShutdownState = { phase: 'underway', repeatDelayed: false }
  return { next, effect: s.phase === 'underway' ? 'already-underway' : 'release' }
}

/** Shutdown before comm-up: nothing can be held yet, so it is underway (and done) at once. */
export function shutdownWithoutResources(s: ShutdownState): ShutdownState {
  return { phase: 'underway', repeatDelayed: s.phase === 'delayed' || (s.phase === 'underway' && s.repeatDelayed) }
}

/** shutdown_in_progress */
export function shutdownInProgress(s: ShutdownState): boolean {
  return s.phase === 'underway'
}

/** rsc_needs_shutdown: hb_giveup_resources() must run again once resources may have settled. */
export function shutdownNeedsRetry(s: ShutdownState): boolean {
  return s.phase === 'delayed' || (s.phase === 'underway' && s.repeatDelayed)
}
