import type { Checkpoint, Heatmap, HostSample, LayerSnapshot, MetricsReply, Run, SystemSample, TmonEvent } from "./types";

export class ApiError extends Error {
  constructor(public status: number, public kind: string, detail: string) {
    super(detail || kind || `HTTP ${status}`);
  }
}

/** The `?token=` of the page URL, passed on to every API and WS request. */
export function pageToken(search: string = location.search): string | null {
  return new URLSearchParams(search).get("token");
}

export function withToken(path: string, token: string | null): string {
  if (!token) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

export function wsUrl(loc: { protocol: string; host: string }, token: string | null): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return withToken(`${scheme}//${loc.host}/ws`, token);
}

export class Api {
  constructor(public token: string | null = pageToken()) {}

  url(path: string): string {
    return withToken(path, this.token);
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = { method, signal };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "Content-Type": "application/json" };
    }
    const res = await fetch(this.url(path), init);
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* a non-JSON body is reported below */
    }
    if (!res.ok) throw new ApiError(res.status, json?.error ?? "http", json?.detail ?? text.slice(0, 200));
    return json as T;
  }

  /** One page of the run list; `query` from runfilter.runsQuery. */
  runs(query: string): Promise<{ runs: Run[]; total: number; limit?: number; offset?: number }> {
    return this.request("GET", `/api/runs?${query}`);
  }
  /** Samples remote trainers posted for the run (GET /api/runs/{id}/system), tagged with host and rank. */
  runSystem(id: string, query: string): Promise<{ samples: HostSample[] }> {
    return this.request("GET", `/api/runs/${enc(id)}/system?${query}`);
  }
  run(id: string): Promise<Run> {
    return this.request("GET", `/api/runs/${enc(id)}`);
  }
  updateRun(id: string, patch: Partial<Run>): Promise<Run> {
    return this.request("PUT", `/api/runs/${enc(id)}`, patch);
  }
  deleteRun(id: string): Promise<{ deleted: boolean }> {
    return this.request("DELETE", `/api/runs/${enc(id)}`);
  }
  keys(id: string): Promise<{ keys: string[] }> {
    return this.request("GET", `/api/runs/${enc(id)}/metrics/keys`);
  }
  metrics(id: string, query: string, signal?: AbortSignal): Promise<MetricsReply> {
    return this.request("GET", `/api/runs/${enc(id)}/metrics?${query}`, undefined, signal);
  }
  checkpoints(id: string): Promise<{ checkpoints: Checkpoint[] }> {
    return this.request("GET", `/api/runs/${enc(id)}/checkpoints`);
  }
  markBest(ckpt: string): Promise<Checkpoint> {
    return this.request("POST", `/api/checkpoints/${enc(ckpt)}/mark_best`);
  }
  load(ckpt: string): Promise<{ command: unknown }> {
    return this.request("POST", `/api/checkpoints/${enc(ckpt)}/load`);
  }
  systemHistory(limit = 300): Promise<{ samples: SystemSample[] }> {
    return this.request("GET", `/api/system/history?limit=${limit}`);
  }
  events(limit = 200): Promise<{ events: TmonEvent[] }> {
    return this.request("GET", `/api/events?limit=${limit}`);
  }
  layers(id: string): Promise<{ steps: number[]; layers: string[] }> {
    return this.request("GET", `/api/runs/${enc(id)}/layers`);
  }
  layerStep(id: string, step: number): Promise<LayerSnapshot> {
    return this.request("GET", `/api/runs/${enc(id)}/layers/${step}`);
  }
  heatmap(id: string, stat: string, maxSteps: number): Promise<Heatmap> {
    return this.request("GET", `/api/runs/${enc(id)}/layers/heatmap?stat=${enc(stat)}&max_steps=${maxSteps}`);
  }
  exportUrl(id: string, format: "csv" | "json" | "jsonl"): string {
    return this.url(`/api/runs/${enc(id)}/export?format=${format}`);
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** One line for the user: "404 run not found", or the error's message. */
export function errText(e: unknown): string {
  if (e instanceof ApiError) return `${e.status} ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
