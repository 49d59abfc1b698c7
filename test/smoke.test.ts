import t from 'tap'
import { formatDiagnostic } from '../lib/config/diagnostics.js'
t.equal(formatDiagnostic({ path: '/etc/ha.d/ha.cf', line: 3, severity: 'error', message: 'x' }), '/etc/ha.d/ha.cf:3: x')
