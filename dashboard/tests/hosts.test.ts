import { describe, expect, it } from "vitest";
import { HostSamples, hostBoxes, hostLabel, mergeHosts, serverBoxes, systemQueries } from "../src/hosts";
import type { HostSample } from "../src/types";

const sample = (host: string, rank: number, t: number, cpu = 10, gpus: HostSample["gpus"] = undefined): HostSample => ({
  host, rank, timestamp: t, cpu_percent: cpu, memory_percent: 50, memory_used: 2 ** 30, memory_total: 2 ** 31, gpus,
});
const gpu = (index: number, util: number) => ({ index, name: "H100", utilization: util, memory_used: 40 * 2 ** 30, memory_total: 80 * 2 ** 30 });

describe("per-host system samples", () => {
  it("groups by host and rank, sorted by rank then host", () => {
    const hs = new HostSamples("run_a");
    hs.addAll([sample("node-2", 1, 1), sample("node-1", 0, 1), sample("node-1", 0, 2), sample("node-0", 1, 1)]);
    expect(hs.size).toBe(3);
    expect(hs.sorted().map((g) => hostLabel(g.host, g.rank))).toEqual(["node-1 r0", "node-0 r1", "node-2 r1"]);
    expect(hs.sorted()[0].samples.map((s) => s.timestamp)).toEqual([1, 2]);
    expect(hs.newest()).toBe(2);
    expect("host" in hs.sorted()[0].samples[0]).toBe(false);
  });

  it("a replayed sample replaces, one out of order is inserted in place", () => {
    const hs = new HostSamples("run_a");
    hs.add(sample("n", 0, 1, 10));
    hs.add(sample("n", 0, 3, 30));
    hs.add(sample("n", 0, 3, 33)); // replay of t=3
    hs.add(sample("n", 0, 2, 20)); // late
    hs.add(sample("n", 0, 1, 11)); // replay of t=1
    expect(hs.sorted()[0].samples.map((s) => [s.timestamp, s.cpu_percent])).toEqual([[1, 11], [2, 20], [3, 33]]);
  });

  it("refuses samples without host, rank or timestamp", () => {
    const hs = new HostSamples("run_a");
    expect(hs.add({ ...sample("n", 0, 1), host: "" })).toBe(false);
    expect(hs.add({ ...sample("n", 0, 1), rank: -1 })).toBe(false);
    expect(hs.add({ ...sample("n", 0, 1), rank: 1.5 })).toBe(false);
    expect(hs.add({ ...sample("n", 0, 1), timestamp: NaN })).toBe(false);
    expect(hs.add(undefined as unknown as HostSample)).toBe(false);
    expect(hs.size).toBe(0);
    expect(hs.newest()).toBeNull();
  });

  it("keeps a bounded history per host", () => {
    const hs = new HostSamples("run_a", 10);
    for (let t = 0; t < 100; t++) hs.add(sample("n", 0, t));
    const kept = hs.sorted()[0].samples;
    expect(kept.length).toBeLessThanOrEqual(15);
    expect(kept[kept.length - 1].timestamp).toBe(99);
    hs.addAll([]);
    expect(hs.sorted()[0].samples.length).toBe(10);
  });

  it("one row per host labelled 'host rN' with one box per GPU of that host", () => {
    const hs = new HostSamples("run_a");
    hs.addAll([
      sample("node-1", 0, 1, 20, [gpu(0, 90), gpu(1, 80)]),
      sample("node-1", 0, 2, 25, [gpu(0, 95), gpu(1, 85)]),
      sample("node-2", 1, 2, 30, [gpu(0, 50)]),
      sample("cpu-box", 2, 2, 70),
    ]);
    const boxes = hostBoxes(hs.sorted());
    expect(boxes.map((b) => [b.group, b.id, b.label])).toEqual([
      ["node-1 r0", "h0", "CPU/MEM"],
      ["node-1 r0", "h0g0", "GPU0"],
      ["node-1 r0", "h0g1", "GPU1"],
      ["node-2 r1", "h1", "CPU/MEM"],
      ["node-2 r1", "h1g0", "GPU0"],
      ["cpu-box r2", "h2", "CPU/MEM"],
    ]);
    expect(boxes[0].value).toBe("25% / 50%");
    expect(boxes[0].xs).toEqual([1, 2]);
    expect(boxes[0].cols).toEqual([[20, 25], [50, 50]]);
    expect(boxes[1].cols).toEqual([[90, 95], [50, 50]]); // util, memory %
    expect(boxes[1].title).toBe("GPU0 H100");
    expect(boxes[1].value).toBe("95% · 40.0 GB");
    expect(boxes[4].xs).toEqual([2]);
  });

  it("the server's own host keeps CPU, MEM and GPU boxes (the fallback view)", () => {
    expect(serverBoxes([])).toEqual([]);
    const boxes = serverBoxes([sample("x", 0, 1, 5, [gpu(0, 12)]), sample("x", 0, 2, 6, [])]);
    expect(boxes.map((b) => b.id)).toEqual(["cpu", "mem"]); // the newest sample has no GPU
    expect(boxes[0].cols).toEqual([[5, 6]]);
    expect(boxes[1].value).toBe("50% 1.00 GB/2.00 GB");
    expect(boxes.every((b) => b.group === undefined)).toBe(true);
  });

  it("loads each host's own history when the run lists several hosts", () => {
    expect(systemQueries(undefined)).toEqual(["limit=1000"]);
    expect(systemQueries([{ host: "n1", rank: 0 }])).toEqual(["limit=1000"]);
    expect(systemQueries([{ host: "n 1", rank: 0 }, { host: "n2", rank: 1 }])).toEqual(["limit=1000", "host=n+1&rank=0&limit=300", "host=n2&rank=1&limit=300"]);
    expect(systemQueries(Array.from({ length: 50 }, (_, i) => ({ host: "n", rank: i })), 8)).toHaveLength(9);
  });

  it("lists the run's hosts plus any that reported since the run object was read", () => {
    const hs = new HostSamples("run_a");
    hs.addAll([sample("node-c", 2, 1000), sample("node-a", 0, 2000)]);
    const merged = mergeHosts([{ host: "node-a", rank: 0, last_seen: "1970-01-01T00:00:01.000Z" }, { host: "node-b", rank: 1, last_seen: null }], hs.sorted());
    expect(merged.map((h) => hostLabel(h.host, h.rank))).toEqual(["node-a r0", "node-b r1", "node-c r2"]);
    expect(merged[0].last_seen).toBe(new Date(2000 * 1000).toISOString()); // newer sample wins
    expect(merged[2].last_seen).toBe(new Date(1000 * 1000).toISOString());
    expect(mergeHosts(undefined, [])).toEqual([]);
  });
});
