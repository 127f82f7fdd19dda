// The idle lock: timestamps, not timers (iOS stops timers in the background).

import { describe, expect, it } from "vitest";
import { DEFAULT_LOCK_POLICY, IdleLock } from "../../src/lib/lock";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("IdleLock", () => {
  it("defaults to 2 minutes with a warning 20 seconds before (STO-3, WCAG 2.2.1)", () => {
    expect(DEFAULT_LOCK_POLICY).toEqual({ idleMs: 120_000, warnMs: 20_000 });
  });

  it("goes active, then warning at idle - warn, then locked at idle", () => {
    const c = clock();
    const lock = new IdleLock(DEFAULT_LOCK_POLICY, c.now);
    expect(lock.state()).toBe("active");
    expect(lock.msUntilLock()).toBe(120_000);
    c.advance(99_999);
    expect(lock.state()).toBe("active");
    c.advance(1);
    expect(lock.state()).toBe("warning");
    expect(lock.msUntilLock()).toBe(20_000);
    c.advance(19_999);
    expect(lock.state()).toBe("warning");
    expect(lock.msUntilLock()).toBe(1);
    c.advance(1);
    expect(lock.state()).toBe("locked");
    expect(lock.msUntilLock()).toBe(0);
  });

  it("starts the idle time again on a touch, also during the warning", () => {
    const c = clock();
    const lock = new IdleLock({ idleMs: 1000, warnMs: 200 }, c.now);
    c.advance(900);
    expect(lock.state()).toBe("warning");
    lock.touch();
    expect(lock.state()).toBe("active");
    expect(lock.msUntilLock()).toBe(1000);
    c.advance(999);
    expect(lock.state()).toBe("warning");
  });

  it("stays locked once the time ran out, even when nobody asked meanwhile", () => {
    const c = clock();
    const lock = new IdleLock({ idleMs: 1000, warnMs: 200 }, c.now);
    c.advance(5 * 60_000); // back from the background
    lock.touch(); // the first tap after resuming
    expect(lock.state()).toBe("locked");
    c.advance(1);
    lock.touch();
    expect(lock.state()).toBe("locked");
  });

  it("locks at once on lock(), and unlock() starts afresh", () => {
    const c = clock();
    const lock = new IdleLock(DEFAULT_LOCK_POLICY, c.now);
    lock.lock();
    expect(lock.state()).toBe("locked");
    lock.touch();
    expect(lock.state()).toBe("locked");
    c.advance(500_000);
    lock.unlock();
    expect(lock.state()).toBe("active");
    expect(lock.msUntilLock()).toBe(120_000);
  });

  it("refuses a warning that does not come before the lock", () => {
    expect(() => new IdleLock({ idleMs: 1000, warnMs: 1000 })).toThrow(RangeError);
    expect(() => new IdleLock({ idleMs: 0, warnMs: 0 })).toThrow(RangeError);
  });
});
