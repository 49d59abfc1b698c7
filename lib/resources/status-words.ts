// How ResourceManager decides "is it running" from a resource script's `status` output (§9.2).

/**
 * ResourceManager's we_own_resource(): only stdout counts, the exit code is ignored.
 *  - `not` (any case), a space, and later `running`/`Running`  -> not running
 *  - else `running`/`Running` anywhere, or `OK`                -> running
 *  - anything else                                             -> not running
 * The shell patterns are `*[Nn][Oo][Tt]\ *[Rr]unning*` and `*[Rr]unning*|*OK*`.
 */
export function statusSaysRunning(stdout: string): boolean {
  if (/[Nn][Oo][Tt] [\s\S]*[Rr]unning/.test(stdout)) return false
  return /[Rr]unning/.test(stdout) || stdout.includes('OK')
}
