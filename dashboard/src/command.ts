// The Bloomberg-style command line: a run name, a metric key or an action, then Enter.
import { parseFilter, type RunFilter } from "./runfilter";

export type Command =
  | { kind: "help" }
  | { kind: "stop"; status: "cancelled" | "interrupted" }
  | { kind: "best" }
  | { kind: "load" }
  | { kind: "delete" }
  | { kind: "export"; format: "csv" | "json" | "jsonl" }
  | { kind: "theme"; theme?: "dark" | "light" }
  | { kind: "view"; view: "charts" | "layers" }
  | { kind: "log" }
  | { kind: "smooth"; weight: number }
  | { kind: "xaxis"; mode: "step" | "time" | "rel" }
  | { kind: "rate"; rate: number }
  | { kind: "reset" }
  | { kind: "overlay"; runId: string }
  | { kind: "clear" }
  | { kind: "filter"; filter: RunFilter }
  | { kind: "page"; dir: -1 | 1 }
  | { kind: "select"; runId: string }
  | { kind: "metric"; key: string }
  | { kind: "error"; message: string; lookup?: RunLookup };

/** No listed run matched: the runs panel shows one page, so the server may still know one by that name. */
export interface RunLookup {
  text: string;
  then: "select" | "overlay";
}

export interface CommandContext {
  runs: readonly { id: string; name: string }[];
  keys: readonly string[];
}

export const COMMAND_HELP: [string, string][] = [
  ["<run name>", "select the run (exact, prefix or substring match)"],
  ["<metric key>", "show that metric in the second chart"],
  ["stop | interrupt", "cancel the selected run / mark it interrupted"],
  ["best", "mark the selected checkpoint best"],
  ["load", "ask the training process to load the selected checkpoint"],
  ["delete", "delete the selected run (asks to confirm)"],
  ["export csv|json|jsonl", "download every point of the run"],
  ["overlay <run> | clear", "overlay another run on the charts / remove overlays"],
  ["filter status:running tag:x name", "list only matching runs (server-side); filter clear"],
  ["next | prev", "next / previous page of runs"],
  ["smooth 0..0.99", "EMA smoothing weight"],
  ["log", "toggle log-scale y"],
  ["x step|time|rel", "x axis: step, wall clock, time since start"],
  ["reset", "reset chart zoom"],
  ["layers | charts", "layer heatmap view / metric charts"],
  ["rate 2.50", "hourly cost rate for the cost column"],
  ["theme [dark|light]", "toggle or set the colour theme"],
  ["help", "this list"],
];

export function parseCommand(input: string, ctx: CommandContext): Command {
  const text = input.trim();
  if (!text) return { kind: "error", message: "type a run, a metric or a command (help)" };
  const [head, ...rest] = text.split(/\s+/);
  const verb = head.toLowerCase();
  const arg = rest.join(" ");
  switch (verb) {
    case "help":
    case "?":
      return { kind: "help" };
    case "stop":
    case "cancel":
      return { kind: "stop", status: "cancelled" };
    case "interrupt":
      return { kind: "stop", status: "interrupted" };
    case "best":
      return { kind: "best" };
    case "load":
      return { kind: "load" };
    case "delete":
      return { kind: "delete" };
    case "export": {
      const f = (arg || "csv").toLowerCase();
      if (f === "csv" || f === "json" || f === "jsonl") return { kind: "export", format: f };
      return { kind: "error", message: `export formats: csv, json, jsonl (not '${arg}')` };
    }
    case "theme": {
      const t = arg.toLowerCase();
      if (!t) return { kind: "theme" };
      if (t === "dark" || t === "light") return { kind: "theme", theme: t };
      return { kind: "error", message: "theme dark or theme light" };
    }
    case "layers":
    case "charts":
      return { kind: "view", view: verb };
    case "log":
      return { kind: "log" };
    case "smooth": {
      const w = Number(arg);
      if (arg === "" || !Number.isFinite(w) || w < 0 || w >= 1) return { kind: "error", message: "smooth takes a weight in [0, 1)" };
      return { kind: "smooth", weight: w };
    }
    case "x": {
      const m = arg.toLowerCase();
      if (m === "step" || m === "time" || m === "rel") return { kind: "xaxis", mode: m };
      return { kind: "error", message: "x step, x time or x rel" };
    }
    case "rate": {
      const r = Number(arg.replace(/^\$/, ""));
      if (arg === "" || !Number.isFinite(r) || r < 0) return { kind: "error", message: "rate takes a non-negative hourly price" };
      return { kind: "rate", rate: r };
    }
    case "reset":
      return { kind: "reset" };
    case "filter": {
      const f = parseFilter(arg);
      return "error" in f ? { kind: "error", message: f.error } : { kind: "filter", filter: f.filter };
    }
    case "next":
      return { kind: "page", dir: 1 };
    case "prev":
      return { kind: "page", dir: -1 };
    case "clear":
      return { kind: "clear" };
    case "overlay":
    case "compare": {
      const run = findRun(arg, ctx.runs);
      return run ? { kind: "overlay", runId: run.id } : { kind: "error", message: `no run matches '${arg}'`, lookup: arg.trim() ? { text: arg.trim(), then: "overlay" } : undefined };
    }
  }
  const key = ctx.keys.find((k) => k === text) ?? ctx.keys.find((k) => k.toLowerCase() === text.toLowerCase());
  if (key) return { kind: "metric", key };
  const run = findRun(text, ctx.runs);
  if (run) return { kind: "select", runId: run.id };
  return { kind: "error", message: `no run, metric or command matches '${text}' (help lists commands)`, lookup: { text, then: "select" } };
}

/** Exact id or name first, then a name prefix, then a substring (case-insensitive). */
export function findRun<R extends { id: string; name: string }>(text: string, runs: readonly R[]): R | undefined {
  const t = text.trim().toLowerCase();
  if (!t) return undefined;
  return (
    runs.find((r) => r.id.toLowerCase() === t || r.name.toLowerCase() === t) ??
    runs.find((r) => r.name.toLowerCase().startsWith(t)) ??
    runs.find((r) => r.name.toLowerCase().includes(t))
  );
}
