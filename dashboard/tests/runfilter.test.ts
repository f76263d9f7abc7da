import { describe, expect, it } from "vitest";
import { clampOffset, filterText, matchesFilter, NO_FILTER, pageLabel, pageOffset, parseFilter, runsQuery } from "../src/runfilter";
import { parseCommand } from "../src/command";

describe("run filter", () => {
  it("parses the command line's filter words", () => {
    expect(parseFilter("status:running tag:x resnet")).toEqual({ filter: { status: "running", tag: "x", q: "resnet" } });
    expect(parseFilter("STATUS:Completed")).toEqual({ filter: { status: "completed", tag: "", q: "" } });
    expect(parseFilter("status:int")).toEqual({ filter: { status: "interrupted", tag: "", q: "" } });
    expect(parseFilter("gpt small")).toEqual({ filter: { status: "", tag: "", q: "gpt small" } });
    expect(parseFilter("name:gpt tag:sweep-3")).toEqual({ filter: { status: "", tag: "sweep-3", q: "gpt" } });
    expect(parseFilter("lr:3e-4")).toEqual({ filter: { status: "", tag: "", q: "lr:3e-4" } }); // not a key: part of the name
  });

  it("clears on nothing, clear, off", () => {
    for (const t of ["", "  ", "clear", "OFF", "none"]) expect(parseFilter(t)).toEqual({ filter: NO_FILTER });
  });

  it("rejects bad statuses and empty values with a sentence", () => {
    expect(parseFilter("status:bogus")).toEqual({ error: expect.stringMatching(/status is one of running, completed/) });
    expect(parseFilter("status:c")).toHaveProperty("error"); // completed or cancelled
    expect(parseFilter("tag:")).toEqual({ error: "'tag:' needs a value" });
  });

  it("the command line's filter becomes a filter command", () => {
    const ctx = { runs: [{ id: "run_a", name: "filter-me" }], keys: [] };
    expect(parseCommand("filter status:running tag:x name", ctx)).toEqual({ kind: "filter", filter: { status: "running", tag: "x", q: "name" } });
    expect(parseCommand("filter", ctx)).toEqual({ kind: "filter", filter: NO_FILTER });
    expect(parseCommand("filter status:nope", ctx).kind).toBe("error");
    expect(parseCommand("next", ctx)).toEqual({ kind: "page", dir: 1 });
    expect(parseCommand("prev", ctx)).toEqual({ kind: "page", dir: -1 });
    // a name not on the listed page: the app asks the server before giving up
    expect(parseCommand("other-run", ctx)).toMatchObject({ kind: "error", lookup: { text: "other-run", then: "select" } });
    expect(parseCommand("overlay other", ctx)).toMatchObject({ kind: "error", lookup: { text: "other", then: "overlay" } });
    for (const t of ["overlay", "smooth 7"]) {
      const c = parseCommand(t, ctx);
      expect(c.kind === "error" && c.lookup).toBe(undefined);
    }
  });

  it("builds the server query, escaped, limit within 1..1000", () => {
    expect(runsQuery(NO_FILTER, 0)).toBe("sort=created_desc&limit=100&offset=0");
    expect(runsQuery({ status: "failed", tag: "a&b", q: "x y" }, 200, 50)).toBe("status=failed&tag=a%26b&q=x+y&sort=created_desc&limit=50&offset=200");
    expect(runsQuery(NO_FILTER, -5, 5000)).toBe("sort=created_desc&limit=1000&offset=0");
  });

  it("matches runs as the server does: status, exact tag, case-insensitive name substring", () => {
    const r = { status: "running" as const, tags: ["sweep", "A100"], name: "ResNet-50" };
    expect(matchesFilter(r, NO_FILTER)).toBe(true);
    expect(matchesFilter(r, { status: "running", tag: "A100", q: "net-5" })).toBe(true);
    expect(matchesFilter(r, { status: "completed", tag: "", q: "" })).toBe(false);
    expect(matchesFilter(r, { status: "", tag: "a100", q: "" })).toBe(false);
    expect(matchesFilter(r, { status: "", tag: "swe", q: "" })).toBe(false);
    expect(matchesFilter(r, { status: "", tag: "", q: "RESNET" })).toBe(true);
    expect(matchesFilter({ ...r, tags: undefined as unknown as string[] }, { status: "", tag: "x", q: "" })).toBe(false);
  });

  it("round-trips to text", () => {
    expect(filterText({ status: "running", tag: "x", q: "gpt" })).toBe("status:running tag:x gpt");
    expect(filterText(NO_FILTER)).toBe("");
    const f = { status: "failed" as const, tag: "t", q: "a b" };
    expect(parseFilter(filterText(f))).toEqual({ filter: f });
  });

  it("pages", () => {
    expect(pageLabel(0, 100, 2345)).toBe("1–100 of 2345");
    expect(pageLabel(2300, 45, 2345)).toBe("2301–2345 of 2345");
    expect(pageLabel(0, 0, 0)).toBe("0 of 0");
    expect(pageOffset(0, 2345, -1)).toBeNull();
    expect(pageOffset(0, 2345, 1)).toBe(100);
    expect(pageOffset(2300, 2345, 1)).toBeNull();
    expect(pageOffset(2300, 2345, -1)).toBe(2200);
    expect(pageOffset(30, 2345, -1)).toBe(0);
    expect(pageOffset(0, 100, 1)).toBeNull();
    expect(clampOffset(300, 250)).toBe(200);
    expect(clampOffset(300, 0)).toBe(0);
    expect(clampOffset(100, 250)).toBe(100);
  });
});
