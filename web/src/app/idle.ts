// The idle lock (STO-3, WCAG 2.2.1): 2 minutes without a touch or a key locks the app, with a
// warning 20 seconds before. Time is measured from timestamps, not counted by timers, because
// phones pause timers in the background: the state is checked every second while the app is
// visible and again whenever it comes back (visibilitychange, pageshow, focus).
import { IdleLock, type LockState } from "../lib/lock";

// The institution's lock delay. The server has no setting for it yet, so it is the
// requirement's default (STO-3: 2 minutes, warned 20 seconds before).
export const LOCK_POLICY = { idleMs: 120_000, warnMs: 20_000 };

type Listener = (state: LockState, msUntilLock: number) => void;

export class IdleWatch {
  private readonly lock = new IdleLock(LOCK_POLICY);
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly listeners = new Set<Listener>();
  private lastState: LockState = "active";

  private readonly onActivity = () => {
    if (this.lock.state() === "warning") return; // only "Stay unlocked" extends a warning
    if (this.lock.state() !== "locked") this.lock.touch();
  };

  private readonly onResume = () => {
    if (document.visibilityState === "visible") this.check();
  };

  /** Start watching (after an unlock). */
  start(): void {
    this.stop();
    this.lock.unlock();
    this.lock.touch();
    this.lastState = "active";
    for (const ev of ["pointerdown", "keydown", "touchstart", "wheel"]) {
      addEventListener(ev, this.onActivity, { capture: true, passive: true });
    }
    addEventListener("visibilitychange", this.onResume);
    addEventListener("pageshow", this.onResume);
    addEventListener("focus", this.onResume);
    this.timer = setInterval(() => {
      if (document.visibilityState === "visible") this.check();
    }, 1000);
  }

  /** Stop watching (on lock or wipe). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const ev of ["pointerdown", "keydown", "touchstart", "wheel"]) {
      removeEventListener(ev, this.onActivity, { capture: true });
    }
    removeEventListener("visibilitychange", this.onResume);
    removeEventListener("pageshow", this.onResume);
    removeEventListener("focus", this.onResume);
  }

  /** "Stay unlocked": a fresh 2 minutes. */
  extend(): void {
    this.lock.touch();
    this.check();
  }

  /** Lock now (the Lock button). */
  lockNow(): void {
    this.lock.lock();
    this.check();
  }

  /** Compare the clock with the policy and tell the listeners what changed. */
  check(): void {
    const state = this.lock.state();
    const ms = this.lock.msUntilLock();
    if (state !== this.lastState || state === "warning") {
      this.lastState = state;
      for (const f of this.listeners) f(state, ms);
    }
  }

  /** Call ``f`` on every state change (and every second of a warning). */
  subscribe(f: Listener): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
}

export const idle = new IdleWatch();
