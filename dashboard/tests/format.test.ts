import { describe, expect, it } from "vitest";
import { etaSeconds, formatBytes, formatCost, formatDuration, formatEta, formatStep, formatValue, runHours } from "../src/format";

describe("formatting", () => {
  it("durations read as the two largest units", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(59.9)).toBe("59s");
    expect(formatDuration(61)).toBe("1m 01s");
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe("3h 05m");
    expect(formatDuration(2 * 86400 + 7200)).toBe("2d 2h");
  });

  it("unknown durations show as --", () => {
    expect(formatDuration(null)).toBe("--");
    expect(formatDuration(-1)).toBe("--");
    expect(formatDuration(Infinity)).toBe("--");
  });

  it("ETA extrapolates the average step rate", () => {
    expect(etaSeconds(250, 1000, 100)).toBeCloseTo(300);
    expect(formatEta(250, 1000, 100)).toBe("5m 00s");
    expect(formatEta(1000, 1000, 100)).toBe("done");
  });

  it("ETA is unknown without a total, without progress or without elapsed time", () => {
    expect(formatEta(10, null, 100)).toBe("--");
    expect(formatEta(0, 100, 100)).toBe("--");
    expect(formatEta(10, 100, 0)).toBe("--");
  });

  it("bytes use binary units with three significant digits", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.50 KB");
    expect(formatBytes(80 * 1024 ** 3)).toBe("80.0 GB");
    expect(formatBytes(700 * 1024 ** 2)).toBe("700 MB");
    expect(formatBytes(undefined)).toBe("--");
  });

  it("cost is run hours times the hourly rate, in cents", () => {
    const h = runHours("2025-01-01T00:00:00Z", "2025-01-01T01:30:00Z", 0);
    expect(h).toBeCloseTo(1.5);
    expect(formatCost(h * 2.5)).toBe("$3.75");
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(0.001)).toBe("<$0.01");
    expect(formatCost(12345.6)).toBe("$12,346");
  });

  it("a running run is costed up to now, a run without start costs nothing", () => {
    const now = Date.parse("2025-01-01T02:00:00Z");
    expect(runHours("2025-01-01T00:00:00Z", null, now)).toBeCloseTo(2);
    expect(runHours(null, null, now)).toBe(0);
    expect(runHours("garbage", null, now)).toBe(0);
  });

  it("metric values stay short at every magnitude", () => {
    expect(formatValue(0.000123)).toBe("1.23e-4");
    expect(formatValue(0.5)).toBe("0.500");
    expect(formatValue(3.14159)).toBe("3.142");
    expect(formatValue(123456)).toBe("123456");
    expect(formatValue(2e9)).toBe("2.00e+9");
    expect(formatValue(NaN)).toBe("--");
  });

  it("steps abbreviate thousands and millions", () => {
    expect(formatStep(999)).toBe("999");
    expect(formatStep(25000)).toBe("25.0k");
    expect(formatStep(1000000)).toBe("1.00M");
  });
});
