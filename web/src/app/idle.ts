// The idle lock (STO-3, WCAG 2.2.1): 2 minutes without a touch or a key locks the app, with a
// warning 20 seconds before. Time is measured from timestamps, not counted by timers, because
// phones pause timers in the background: the state is checked every second while the app is
// visible and again whenever it comes back (visibilitychange, pageshow, focus).
import { IdleLock, type LockState } from "../lib/lock";

// The institution's lock delay (STO-3): the server's CLINPHOTO_LOCK_AFTER_SECONDS, read from
// GET /v1/me at each unlock and kept on the phone for unlocks without a network; 2 minutes,
// warned 20 seconds before, until the server has said otherwise.
export const LOCK_POLICY = { idleMs: 120_000, warnMs: 20_000 };
const POLICY_KEY = "clinphoto.lockAfterSeconds";

/** The lock policy for `seconds` of idle time, within the server's own bounds. */
export function lockPolicy(seconds: number, warnSeconds = 20): { idleMs: number; warnMs: number } {
  if (!Number.isInteger(seconds) || seconds < 30 || seconds > 1800) return LOCK_POLICY;
  return { idleMs: seconds * 1000, warnMs: Math.min(warnSeconds, seconds - 10) * 1000 };
}

function storedPolicy(): { idleMs: number; warnMs: number } {
  try {
    const saved = Number(localStorage.getItem(POLICY_KEY));
    return saved ? lockPolicy(saved) : LOCK_POLICY;
  } catch {
    return LOCK_POLICY;
  }
}

type Listener = (state: LockState, msUntilLock: number) => void;

export class IdleWatch {
  private lock = new IdleLock(LOCK_POLICY);
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

  /** Use the institution's delay from now on (GET /v1/me's device_policy). */
  configure(lockAfterSeconds: number, warnSeconds = 20): void {
    const policy = lockPolicy(lockAfterSeconds, warnSeconds);
    try {
      localStorage.setItem(POLICY_KEY, String(policy.idleMs / 1000));
    } catch {
      /* kept for this session only */
    }
    const running = this.timer !== null;
    this.lock = new IdleLock(policy);
    if (!running) this.lock.lock();
  }

  /** Start watching (after an unlock). */
  start(): void {
    this.stop();
    this.lock = new IdleLock(storedPolicy());
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
