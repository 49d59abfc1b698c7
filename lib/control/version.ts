// Version words: the heartbeat release heartbeat-ts speaks for, and its own version.

/** The C heartbeat this implementation is wire- and command-compatible with. */
export const HEARTBEAT_COMPAT_VERSION = '3.0.6'

/** heartbeat-ts's own version; kept equal to package.json's (a test checks). */
export const HBTS_VERSION = '0.1.0'

/**
 * What `heartbeat -V` and `cl_status hbparameter -p hbversion` print. 3.0.6 prints
 * `3.0.6 (node: <hg changeset>)`; scripts read the first word, so it stays 3.0.6.
 */
export function hbVersionString(): string {
  return `${HEARTBEAT_COMPAT_VERSION} (heartbeat-ts ${HBTS_VERSION})`
}
