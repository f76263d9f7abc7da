import { describe, expect, it } from "vitest";
import { ema } from "../src/ema";

describe("EMA smoothing", () => {
  it("weight 0 returns the raw values", () => {
    expect(ema([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
  });

  it("starts at the first value instead of rising from zero (bias-corrected)", () => {
    const out = ema([10, 10, 10], 0.9);
    for (const v of out) expect(v).toBeCloseTo(10, 10);
  });

  it("follows a step change gradually and converges", () => {
    const values = [...Array(5).fill(0), ...Array(200).fill(1)];
    const out = ema(values, 0.9) as number[];
    expect(out[5]).toBeGreaterThan(0);
    expect(out[5]).toBeLessThan(0.5);
    expect(out[204]).toBeCloseTo(1, 6);
    for (let i = 6; i < out.length; i++) expect(out[i]).toBeGreaterThanOrEqual(out[i - 1]);
  });

  it("matches the hand-computed debiased average", () => {
    const w = 0.5;
    const out = ema([2, 4], w) as number[];
    // acc1 = 1, debiased 1/(1-0.5) = 2; acc2 = 0.5 + 2 = 2.5, debiased 2.5/(1-0.25) = 3.333
    expect(out[0]).toBeCloseTo(2, 10);
    expect(out[1]).toBeCloseTo(10 / 3, 10);
  });

  it("passes gaps through without disturbing the average", () => {
    const out = ema([1, null, 1, NaN, 1], 0.8);
    expect(out[1]).toBeNull();
    expect(out[3]).toBeNaN();
    expect(out[4]).toBeCloseTo(1, 10);
  });

  it("clamps weights of 1 and above so the output never freezes", () => {
    const out = ema([0, 100], 1) as number[];
    expect(out[1]).toBeGreaterThan(0);
  });
});
