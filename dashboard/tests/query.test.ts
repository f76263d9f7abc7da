import { describe, expect, it } from "vitest";
import { MAX_POINTS, MIN_POINTS, buildMetricsQuery, gapQuery, pointsForWidth } from "../src/query";

const params = (q: string) => Object.fromEntries(new URLSearchParams(q));

describe("max_points request builder", () => {
  it("asks for one point per pixel of chart width", () => {
    expect(pointsForWidth(640)).toBe(640);
    expect(pointsForWidth(640, 2)).toBe(1280);
  });

  it("clamps the point budget for tiny, huge and hidden charts", () => {
    expect(pointsForWidth(0)).toBe(MIN_POINTS);
    expect(pointsForWidth(NaN)).toBe(MIN_POINTS);
    expect(pointsForWidth(100000, 3)).toBe(MAX_POINTS);
  });

  it("without a zoom asks for the whole series", () => {
    expect(params(buildMetricsQuery({ keys: ["loss", "lr"], maxPoints: 500 }))).toEqual({ keys: "loss,lr", max_points: "500" });
  });

  it("a zoom by step asks for the visible whole-step range", () => {
    const p = params(buildMetricsQuery({ keys: ["loss"], maxPoints: 300.7, xMin: 100.4, xMax: 250.2, xMode: "step" }));
    expect(p).toEqual({ keys: "loss", max_points: "300", step_min: "100", step_max: "251" });
  });

  it("a reversed or negative zoom is normalised", () => {
    const p = params(buildMetricsQuery({ keys: ["loss"], maxPoints: 10, xMin: 50, xMax: -5 }));
    expect(p.step_min).toBe("0");
    expect(p.step_max).toBe("50");
  });

  it("a zoom in wall time asks for a time range", () => {
    const p = params(buildMetricsQuery({ keys: ["loss"], maxPoints: 10, xMin: 1730000000, xMax: 1730000060, xMode: "time" }));
    expect(p.time_min).toBe("1730000000");
    expect(p.time_max).toBe("1730000060");
    expect(p.step_min).toBeUndefined();
  });

  it("a zoom in relative time is shifted back to wall time by the run's origin", () => {
    const p = params(buildMetricsQuery({ keys: ["loss"], maxPoints: 10, xMin: 10, xMax: 20, xMode: "rel", timeOrigin: 1000 }));
    expect(p.time_min).toBe("1010");
    expect(p.time_max).toBe("1020");
  });

  it("passes the downsampling method through", () => {
    expect(params(buildMetricsQuery({ keys: ["loss"], maxPoints: 10, method: "minmax" })).method).toBe("minmax");
  });

  it("a dropped backlog refetches exactly the missing steps", () => {
    expect(params(gapQuery("loss", 10, 20, 64)!)).toEqual({ keys: "loss", step_min: "11", step_max: "19", max_points: "64" });
    expect(gapQuery("loss", 10, 11, 64)).toBeNull();
  });
});
