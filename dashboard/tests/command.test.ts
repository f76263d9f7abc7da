import { describe, expect, it } from "vitest";
import { findRun, parseCommand } from "../src/command";

const ctx = {
  runs: [
    { id: "run_aaa", name: "resnet-sweep-3" },
    { id: "run_bbb", name: "resnet" },
    { id: "run_ccc", name: "gpt-small" },
  ],
  keys: ["loss", "lr", "val/acc"],
};

describe("command line", () => {
  it("actions", () => {
    expect(parseCommand("stop", ctx)).toEqual({ kind: "stop", status: "cancelled" });
    expect(parseCommand("interrupt", ctx)).toEqual({ kind: "stop", status: "interrupted" });
    expect(parseCommand("best", ctx)).toEqual({ kind: "best" });
    expect(parseCommand("  HELP ", ctx)).toEqual({ kind: "help" });
    expect(parseCommand("?", ctx)).toEqual({ kind: "help" });
    expect(parseCommand("layers", ctx)).toEqual({ kind: "view", view: "layers" });
  });

  it("export takes a format, csv by default, and rejects others", () => {
    expect(parseCommand("export csv", ctx)).toEqual({ kind: "export", format: "csv" });
    expect(parseCommand("export JSONL", ctx)).toEqual({ kind: "export", format: "jsonl" });
    expect(parseCommand("export", ctx)).toEqual({ kind: "export", format: "csv" });
    expect(parseCommand("export xml", ctx).kind).toBe("error");
  });

  it("theme toggles or sets", () => {
    expect(parseCommand("theme", ctx)).toEqual({ kind: "theme" });
    expect(parseCommand("theme light", ctx)).toEqual({ kind: "theme", theme: "light" });
    expect(parseCommand("theme pink", ctx).kind).toBe("error");
  });

  it("numeric settings are validated", () => {
    expect(parseCommand("smooth 0.9", ctx)).toEqual({ kind: "smooth", weight: 0.9 });
    expect(parseCommand("smooth 1", ctx).kind).toBe("error");
    expect(parseCommand("smooth", ctx).kind).toBe("error");
    expect(parseCommand("rate $3.20", ctx)).toEqual({ kind: "rate", rate: 3.2 });
    expect(parseCommand("rate -1", ctx).kind).toBe("error");
    expect(parseCommand("x rel", ctx)).toEqual({ kind: "xaxis", mode: "rel" });
    expect(parseCommand("x banana", ctx).kind).toBe("error");
  });

  it("a metric key of the selected run charts it (exact, then case-insensitive)", () => {
    expect(parseCommand("val/acc", ctx)).toEqual({ kind: "metric", key: "val/acc" });
    expect(parseCommand("LR", ctx)).toEqual({ kind: "metric", key: "lr" });
  });

  it("a run name selects the run: exact match beats prefix beats substring", () => {
    expect(parseCommand("resnet", ctx)).toEqual({ kind: "select", runId: "run_bbb" });
    expect(parseCommand("resnet-s", ctx)).toEqual({ kind: "select", runId: "run_aaa" });
    expect(parseCommand("small", ctx)).toEqual({ kind: "select", runId: "run_ccc" });
    expect(parseCommand("run_ccc", ctx)).toEqual({ kind: "select", runId: "run_ccc" });
  });

  it("overlay names a run", () => {
    expect(parseCommand("overlay gpt", ctx)).toEqual({ kind: "overlay", runId: "run_ccc" });
    expect(parseCommand("overlay nothing", ctx).kind).toBe("error");
  });

  it("nothing matching is an error that says so", () => {
    const c = parseCommand("bert", ctx);
    expect(c.kind).toBe("error");
    expect(c.kind === "error" && c.message).toContain("bert");
    expect(parseCommand("   ", ctx).kind).toBe("error");
  });

  it("findRun is case-insensitive", () => {
    expect(findRun("GPT-SMALL", ctx.runs)?.id).toBe("run_ccc");
    expect(findRun("", ctx.runs)).toBeUndefined();
  });
});
