import { describe, expect, it } from "vitest";
import { progressView, stepLine } from "../src/progress";

describe("progress", () => {
  it("a run past its planned steps shows its step count and a full bar, never 9999%", () => {
    const p = progressView(9999, 100, 99.99)!;
    expect(p).toEqual({ fraction: 1, label: "9999 steps", over: true });
    expect(p.label).not.toMatch(/%/);
    expect(progressView(150000, 100000, 1)!.label).toBe("150.0k steps");
    expect(stepLine(9999, 100)).toBe("9999 / 100 (past plan)");
  });

  it("within plan: a floored percentage, 100% only at the last step", () => {
    expect(progressView(42, 100)).toEqual({ fraction: 0.42, label: "42%", over: false });
    expect(progressView(999, 1000)!.label).toBe("99%");
    expect(progressView(1000, 1000)).toEqual({ fraction: 1, label: "100%", over: false });
    expect(progressView(0, 1000)!.label).toBe("0%");
    expect(stepLine(420, 1000)).toBe("420 / 1000 (42%)");
  });

  it("falls back to the server's progress, clamped to [0, 1]", () => {
    expect(progressView(null, null, 0.5)).toEqual({ fraction: 0.5, label: "50%", over: false });
    expect(progressView(null, 100, 99.99)).toEqual({ fraction: 1, label: "100%", over: false });
    expect(progressView(null, null, -3)!.fraction).toBe(0);
  });

  it("nothing to tell: null", () => {
    expect(progressView(null, null, null)).toBeNull();
    expect(progressView(10, 0, null)).toBeNull();
    expect(progressView(10, null, NaN)).toBeNull();
    expect(stepLine(null, null)).toBe("--");
    expect(stepLine(7, null)).toBe("7");
    expect(stepLine(null, 100)).toBe("-- / 100");
  });
});
