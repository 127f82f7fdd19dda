// The idle lock (STO-3): the app locks after `idleMs` without a touch, warning `warnMs`
// before (WCAG 2.2.1: one tap stays unlocked). It compares timestamps rather than trusting
// timers, which iOS stops while the app is in the background: ask state() whenever the app
// wakes (visibilitychange, pageshow, focus) and on a short interval while visible.

/** How long the app may stay idle, and how long before locking the warning shows (ms). */
export interface LockPolicy {
  idleMs: number;
  warnMs: number;
}

/** Where the lock stands. */
export type LockState = "active" | "warning" | "locked";

/** The default: lock after 2 minutes idle, warn 20 seconds before (STO-3). */
export const DEFAULT_LOCK_POLICY: LockPolicy = { idleMs: 120_000, warnMs: 20_000 };

/** The idle lock; starts active, as at the moment of unlocking. */
export class IdleLock {
  private lastActive: number;
  private locked = false;

  constructor(
    private readonly policy: LockPolicy = DEFAULT_LOCK_POLICY,
    private readonly now: () => number = Date.now,
  ) {
    if (!(policy.idleMs > 0 && policy.warnMs >= 0 && policy.warnMs < policy.idleMs)) {
      throw new RangeError("the warning must come before the lock");
    }
    this.lastActive = now();
  }

  /** The user did something: the idle time starts again, unless it already ran out (a touch
   * after a long time in the background does not unlock). */
  touch(): void {
    if (this.state() !== "locked") this.lastActive = this.now();
  }

  /** active, warning (within warnMs of locking), or locked (latched until unlock()). */
  state(): LockState {
    if (this.locked) return "locked";
    const idle = this.now() - this.lastActive;
    if (idle >= this.policy.idleMs) {
      this.locked = true;
      return "locked";
    }
    return idle >= this.policy.idleMs - this.policy.warnMs ? "warning" : "active";
  }

  /** Milliseconds left before the lock; 0 once locked. */
  msUntilLock(): number {
    if (this.state() === "locked") return 0;
    return this.policy.idleMs - (this.now() - this.lastActive);
  }

  /** Lock at once (the user's lock button, or the app going away). */
  lock(): void {
    this.locked = true;
  }

  /** After the passcode was accepted: active again, idle time from now. */
  unlock(): void {
    this.locked = false;
    this.lastActive = this.now();
  }
}
