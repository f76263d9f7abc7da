import { describe, expect, it } from "vitest";
import { RunList } from "../src/runlist";
import type { Run } from "../src/types";

function run(id: string, patch: Partial<Run> = {}): Run {
  return {
    id, name: id, status: "running", config: {}, tags: [], notes: "", start_time: null, end_time: null,
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", total_steps: null, last_step: null, progress: null,
    ...patch,
  };
}

describe("run list (WS messages on a filtered page)", () => {
  it("a created run goes on top of the first page when it matches the filter", () => {
    const l = new RunList(2);
    l.filter = { status: "running", tag: "", q: "" };
    l.setPage([run("b"), run("a")], 5, 0);
    expect(l.onCreated(run("c", { created_at: "2026-02-01T00:00:00Z" }))).toBe(true);
    expect(l.ids).toEqual(["c", "b"]); // a full page: "a" moves on to page 2
    expect(l.total).toBe(6);
    expect(l.onCreated(run("c", { created_at: "2026-02-01T00:00:00Z" }))).toBe(false); // replayed message
    expect(l.onCreated(run("d", { status: "completed", created_at: "2026-02-01T00:00:00Z" }))).toBe(false);
    expect(l.ids).toEqual(["c", "b"]);
    expect(l.total).toBe(6);
    const roomy = new RunList(10);
    roomy.setPage([run("a")], 1, 0);
    roomy.onCreated(run("b", { created_at: "2026-02-01T00:00:00Z" }));
    expect(roomy.ids).toEqual(["b", "a"]);
  });

  it("on a later page a created run changes nothing shown; the caller re-reads the page", () => {
    const l = new RunList(2);
    l.setPage([run("b"), run("a")], 4, 2);
    expect(l.onCreated(run("z", { created_at: "2027-01-01T00:00:00Z" }))).toBe(true);
    expect(l.ids).toEqual(["b", "a"]);
    expect(l.total).toBe(4);
  });

  it("a late run_created for a run older than a full first page is not counted twice", () => {
    const l = new RunList(2);
    const at = (s: string) => `2026-01-01T00:00:0${s}Z`;
    l.setPage([run("r3", { created_at: at("3") }), run("r2", { created_at: at("2") })], 4, 0);
    expect(l.onCreated(run("r1", { created_at: at("1") }))).toBe(true); // on page 2, already in the total
    expect(l.ids).toEqual(["r3", "r2"]);
    expect(l.total).toBe(4);
    // one between two listed runs goes in at its place
    const m = new RunList(5);
    m.setPage([run("r3", { created_at: at("3") }), run("r1", { created_at: at("1") })], 2, 0);
    m.onCreated(run("r2", { created_at: at("2") }));
    expect(m.ids).toEqual(["r3", "r2", "r1"]);
    expect(m.total).toBe(3);
  });

  it("a listed run that stops matching leaves; deleted runs leave", () => {
    const l = new RunList();
    l.filter = { status: "running", tag: "", q: "" };
    l.setPage([run("b"), run("a")], 2, 0);
    expect(l.onUpdated(run("a"))).toBe(false);
    expect(l.onUpdated(run("a", { status: "completed" }))).toBe(true);
    expect(l.ids).toEqual(["b"]);
    expect(l.total).toBe(1);
    expect(l.onUpdated(run("q", { status: "completed" }))).toBe(false); // not listed
    expect(l.onDeleted("b")).toBe(true);
    expect(l.ids).toEqual([]);
    expect(l.total).toBe(0);
    expect(l.onDeleted("b")).toBe(false);
  });

  it("the total never reads below what is shown", () => {
    const l = new RunList();
    l.setPage([run("a"), run("b")], 0, 100);
    expect(l.total).toBe(102);
    expect(l.loaded).toBe(true);
  });
});
