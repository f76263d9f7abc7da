// The system panel for a run reported from other machines: samples grouped by (host, rank), one
// row per host (CPU %, memory %) and one per GPU of that host (utilisation, memory %).
import { formatBytes, formatPercent } from "./format";
import type { HostSample, RunHost, SystemSample } from "./types";

export const SAMPLES_PER_HOST = 300;
/** GET /api/runs/{id}/system answers at most this many in one call. */
const MAX_LIMIT = 1000;

export interface HostGroup {
  host: string;
  rank: number;
  samples: SystemSample[];
}

export function hostLabel(host: string, rank: number): string {
  return `${host} r${rank}`;
}

function key(host: string, rank: number): string {
  return `${rank}\u0000${host}`;
}

/** Per-(host, rank) sample buffers in timestamp order; a sample with a known timestamp replaces (replays never duplicate). */
export class HostSamples {
  private groups = new Map<string, HostGroup>();
  constructor(public readonly runId: string, private cap = SAMPLES_PER_HOST) {}

  get size(): number {
    return this.groups.size;
  }

  /** Adds one sample; false when it carries no usable host, rank or timestamp. */
  add(s: HostSample): boolean {
    if (!s || typeof s.host !== "string" || !s.host || !Number.isInteger(s.rank) || s.rank < 0 || !Number.isFinite(s.timestamp)) return false;
    const k = key(s.host, s.rank);
    let g = this.groups.get(k);
    if (!g) this.groups.set(k, (g = { host: s.host, rank: s.rank, samples: [] }));
    const { host: _h, rank: _r, ...sample } = s;
    void _h;
    void _r;
    const arr = g.samples;
    // live samples arrive in order: the common case is an append
    if (!arr.length || arr[arr.length - 1].timestamp < s.timestamp) arr.push(sample);
    else {
      let lo = 0;
      let hi = arr.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (arr[mid].timestamp < s.timestamp) lo = mid + 1;
        else hi = mid;
      }
      if (arr[lo]?.timestamp === s.timestamp) arr[lo] = sample;
      else arr.splice(lo, 0, sample);
    }
    if (arr.length > this.cap * 1.5) g.samples = arr.slice(-this.cap);
    return true;
  }

  addAll(samples: readonly HostSample[]): void {
    for (const s of samples) this.add(s);
    for (const g of this.groups.values()) if (g.samples.length > this.cap) g.samples = g.samples.slice(-this.cap);
  }

  /** Sorted by rank, then host (the order of the run's `hosts`). */
  sorted(): HostGroup[] {
    return [...this.groups.values()].sort((a, b) => a.rank - b.rank || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }

  /** The newest sample timestamp of any host (Unix s), or null. */
  newest(): number | null {
    let t: number | null = null;
    for (const g of this.groups.values()) {
      const last = g.samples[g.samples.length - 1];
      if (last && (t == null || last.timestamp > t)) t = last.timestamp;
    }
    return t;
  }
}

/**
 * The GET /api/runs/{id}/system queries that load a run's recent history: the newest samples of any
 * host (which finds hosts the run object does not list yet), and when the run lists several hosts, one
 * per host as well, so every host keeps its own SAMPLES_PER_HOST (one shared limit would favour the
 * chattiest ranks). Overlaps are harmless: HostSamples keeps one sample per timestamp.
 */
export function systemQueries(hosts: readonly RunHost[] | undefined, maxHosts = 32): string[] {
  const list = (hosts ?? []).slice(0, maxHosts);
  const all = `limit=${MAX_LIMIT}`;
  if (list.length < 2) return [all];
  return [all, ...list.map((h) => new URLSearchParams({ host: h.host, rank: String(h.rank), limit: String(SAMPLES_PER_HOST) }).toString())];
}

/** The hosts to list for a run: its `hosts`, plus any that posted samples since the run object was read. */
export function mergeHosts(runHosts: readonly RunHost[] | undefined, groups: readonly HostGroup[]): RunHost[] {
  const out = new Map<string, RunHost>();
  for (const h of runHosts ?? []) out.set(key(h.host, h.rank), h);
  for (const g of groups) {
    const k = key(g.host, g.rank);
    const last = g.samples[g.samples.length - 1];
    const seen = last ? new Date(last.timestamp * 1000).toISOString() : null;
    const known = out.get(k);
    if (!known) out.set(k, { host: g.host, rank: g.rank, last_seen: seen });
    else if (seen && (!known.last_seen || seen > known.last_seen)) out.set(k, { ...known, last_seen: seen });
  }
  return [...out.values()].sort((a, b) => a.rank - b.rank || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** One box of the system panel: a label, the latest value, and sparkline columns aligned with xs. */
export interface SysBox {
  id: string;
  label: string;
  value: string;
  /** The host row a box belongs to ("node-1 r0"); none for the server's own host. */
  group?: string;
  /** Hover text (the GPU's full name). */
  title?: string;
  xs: number[];
  cols: (number | null)[][];
  /** Indices into the --series-N colours. */
  colors: number[];
}

/** Boxes for the server's own host (GET /api/system/*): CPU, MEM, one per GPU. */
export function serverBoxes(samples: readonly SystemSample[]): SysBox[] {
  const last = samples[samples.length - 1];
  if (!last) return [];
  const xs = samples.map((s) => s.timestamp);
  return [
    { id: "cpu", label: "CPU", value: formatPercent(last.cpu_percent), xs, cols: [samples.map((s) => num(s.cpu_percent))], colors: [0] },
    {
      id: "mem",
      label: "MEM",
      value: `${formatPercent(last.memory_percent)} ${last.memory_used != null ? formatBytes(last.memory_used) + "/" + formatBytes(last.memory_total) : ""}`.trim(),
      xs,
      cols: [samples.map((s) => num(s.memory_percent))],
      colors: [1],
    },
    ...gpuBoxes(samples, last, "gpu", ""),
  ];
}

/** Boxes for a run's hosts, grouped into one row per host labelled "host rN": a CPU+MEM box, then one per GPU of that host. */
export function hostBoxes(groups: readonly HostGroup[]): SysBox[] {
  const out: SysBox[] = [];
  groups.forEach((g, i) => {
    const last = g.samples[g.samples.length - 1];
    if (!last) return;
    const label = hostLabel(g.host, g.rank);
    out.push({
      id: `h${i}`,
      label: "CPU/MEM",
      group: label,
      value: `${formatPercent(last.cpu_percent)} / ${formatPercent(last.memory_percent)}`,
      xs: g.samples.map((s) => s.timestamp),
      cols: [g.samples.map((s) => num(s.cpu_percent)), g.samples.map((s) => num(s.memory_percent))],
      colors: [0, 1],
    });
    // the row is narrow: "GPU0" with the model in the hover text
    out.push(...gpuBoxes(g.samples, last, `h${i}g`, "").map((b) => ({ ...b, label: b.label.split(" ")[0], group: label })));
  });
  return out;
}

function gpuBoxes(samples: readonly SystemSample[], last: SystemSample, idPrefix: string, labelPrefix: string): SysBox[] {
  const xs = samples.map((s) => s.timestamp);
  return (last.gpus ?? []).map((g) => ({
    id: `${idPrefix}${g.index}`,
    label: `${labelPrefix}GPU${g.index} ${g.name ?? ""}`.trim().slice(0, 28),
    title: `GPU${g.index} ${g.name ?? ""}`.trim(),
    // 0 °C is what a sample without a temperature reads as: not shown
    value: `${formatPercent(g.utilization)} · ${formatBytes(g.memory_used)}${g.temperature ? ` · ${g.temperature}°C` : ""}`,
    xs,
    cols: [
      samples.map((s) => num(s.gpus?.find((x) => x.index === g.index)?.utilization)),
      samples.map((s) => {
        const x = s.gpus?.find((y) => y.index === g.index);
        return x && x.memory_total ? (100 * x.memory_used) / x.memory_total : null;
      }),
    ],
    colors: [2, 3],
  }));
}

function num(v: number | null | undefined): number | null {
  return v == null || !Number.isFinite(v) ? null : v;
}
