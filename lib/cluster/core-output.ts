// What one call into the membership core produces: its actions, with `now` and the wall-clock facts of that call, and rate-limited complaints.
import { logAction, type LogLevel, type MembershipAction, type MembershipEnv } from './actions.js'
import { ComplaintLimiter, type ComplaintKind } from './complaint-limiter.js'

export class CoreOutput {
  now = 0
  env: MembershipEnv = { wallSec: 0, loadavg: 'n/a' }
  private actions: MembershipAction[] = []
  private readonly complaints = new ComplaintLimiter()

  /** One call: `body` runs at `now`; returns what it pushed. */
  run(now: number, env: MembershipEnv, body: () => void): MembershipAction[] {
    this.now = now
    this.env = env
    this.actions = []
    body()
    const out = this.actions
    this.actions = []
    return out
  }

  push(action: MembershipAction): void {
    this.actions.push(action)
  }

  log(level: LogLevel, text: string): void {
    this.actions.push(logAction(level, text))
  }

  /** A complaint about wire input: logged within its kind's budget, the rest summed up later. */
  complain(kind: ComplaintKind, level: LogLevel, text: string): void {
    for (const l of this.complaints.complain(kind, level, text, this.now)) this.log(l.level, l.text)
  }

  /** The summaries of complaint windows that ended by now. */
  flushComplaints(): void {
    for (const l of this.complaints.flush(this.now)) this.log(l.level, l.text)
  }

  complaintsDueMs(): number | undefined {
    return this.complaints.nextDueMs()
  }
}
