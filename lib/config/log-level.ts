// The one set of log severities, as heartbeat prints them (debug, info, WARN, ERROR, CRIT): every core
// and the logger speak it (ha.cf's debug setting and logfacility decide where each level goes).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'crit'
