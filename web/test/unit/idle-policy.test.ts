// The institution's lock delay, as the app takes it from GET /v1/me (STO-3).
import { describe, expect, it } from "vitest";

import { LOCK_POLICY, lockPolicy } from "../../src/app/idle";

describe("lockPolicy", () => {
  it("uses the server's delay and warns 20 seconds before", () => {
    expect(lockPolicy(300)).toEqual({ idleMs: 300_000, warnMs: 20_000 });
    expect(lockPolicy(30)).toEqual({ idleMs: 30_000, warnMs: 20_000 });
  });
  it("keeps the 2-minute default for anything outside the server's bounds", () => {
    for (const wrong of [0, 29, 1801, 12.5, Number.NaN]) expect(lockPolicy(wrong)).toEqual(LOCK_POLICY);
  });
});
