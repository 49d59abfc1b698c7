// ResourceManager's "is it running" reading of a status script's stdout (§9.2 shell patterns).
import t from 'tap'
import { statusSaysRunning } from '../../lib/resources/status-words.js'

const cases: Array<[string, boolean]> = [
  ['lvs is running', true],
  ['Running', true],
  ['RUNNING', false], // only the R may be a capital
  ['OK', true],
  ['status: ok', false], // OK must be upper case
  ['lvs is not running', false],
  ['NOT running', false],
  ['Not Running', false],
  ['cannot tell, service running', false], // "not " inside "cannot " counts, as the glob does
  ['nothing running here', true], // "not" must be followed by a space
  ['stopped', false],
  ['', false],
  ['IPaddr: 10.0.0.1 is\nrunning', true],
  ['not\nrunning', true], // the glob wants "not" then a space: a newline is not one
]
for (const [out, want] of cases) {
  t.equal(statusSaysRunning(out), want, JSON.stringify(out))
}
