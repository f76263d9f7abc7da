// SYSTEM: the selected run's own hosts (one row per host rN: CPU+MEM and each GPU as sparklines)
// when its trainers post samples, else the server's own host; "NO GPU" without NVML.
import { ApiError, errText } from "../api";
import type { App } from "../app";
import { Sparkline, cssVar, esc, themeColors } from "../chart";
import { formatBytes, formatClock } from "../format";
import { HostSamples, hostBoxes, serverBoxes, systemQueries, type SysBox } from "../hosts";
import { MAX_SAMPLES, failed, ready } from "../state";
import type { Panel } from "./panel";

export class SystemPanel implements Panel {
  readonly id = "system";
  private sparks = new Map<string, Sparkline>();
  private hostSeq = 0;

  constructor(private app: App) {}

  html(): string {
    return `<section class="panel" id="p-system" data-panel="system"><h2>SYSTEM <span class="spacer"></span><span class="sys-src muted"></span></h2><div class="body"></div></section>`;
  }

  /** Sparklines keep their colours: a new theme builds them again. */
  reset(): void {
    this.dropSparks();
    this.app.$("#p-system .body").innerHTML = "";
  }

  render(app: App): void {
    const s = app.state;
    const body = app.$("#p-system .body");
    const src = app.$("#p-system .sys-src");
    const hs = s.hostSys && s.hostSys.runId === s.selected && s.hostSys.size ? s.hostSys : null;
    const samples = s.serverSamples();
    const boxes: SysBox[] = hs ? hostBoxes(hs.sorted()) : serverBoxes(samples);
    const runName = hs ? s.runs.get(hs.runId)?.name ?? hs.runId : "";
    src.textContent = hs ? `${runName} · ${hs.size} host${hs.size === 1 ? "" : "s"}` : "server host";
    src.dataset.src = hs ? "run" : "server";
    if (!boxes.length) {
      const err = s.serverSys.state === "error" ? s.serverSys.error : "";
      body.innerHTML = `<div class="state${err ? " error" : ""}">${err ? "cannot load system samples: " + esc(err) : "no system samples yet"}</div>`;
      this.dropSparks();
      return;
    }
    const ids = (hs ? "run:" : "srv:") + boxes.map((b) => `${b.group ?? ""}/${b.id}`).join(",");
    let wrap = body.querySelector<HTMLElement>(".syswrap");
    if (!wrap || wrap.dataset.ids !== ids) {
      this.dropSparks();
      body.innerHTML = `<div class="syswrap" data-ids="${esc(ids)}">${hs ? hostRows(boxes) : serverRow(boxes)}</div><div class="muted sysfoot"></div>`;
      wrap = body.querySelector<HTMLElement>(".syswrap")!;
    }
    const theme = themeColors();
    for (const b of boxes) {
      const el = wrap.querySelector<HTMLElement>(`[data-sys="${CSS.escape(b.id)}"]`)!;
      el.querySelector("b")!.textContent = b.value;
      let spark = this.sparks.get(b.id);
      if (!spark) this.sparks.set(b.id, (spark = new Sparkline(el.querySelector(".spark")!, b.cols.map((_, i) => `${b.id}${i}`), b.colors.map((c) => cssVar(`--series-${c}`)))));
      spark.render([b.xs, ...b.cols] as any, theme);
    }
    const foot = body.querySelector(".sysfoot")!;
    if (hs) {
      const t = hs.newest();
      foot.textContent = `reported by the run's trainers${t != null ? ` · newest ${formatClock(t)}` : ""}`;
    } else {
      const last = samples[samples.length - 1];
      foot.textContent = last.process_rss != null ? `server RSS ${formatBytes(last.process_rss)} · sampled ${formatClock(last.timestamp)}` : `sampled ${formatClock(last.timestamp)}`;
    }
  }

  /** The server's own host history. */
  async loadServer(): Promise<void> {
    const s = this.app.state;
    try {
      const { samples } = await this.app.api.systemHistory(MAX_SAMPLES);
      s.serverSys = ready(samples.slice(-MAX_SAMPLES));
    } catch (e) {
      // a server without system history (404) has nothing to show; samples already shown stay
      const have = s.serverSamples();
      s.serverSys = have.length || (e instanceof ApiError && e.status === 404) ? ready(have) : failed(errText(e));
    }
    this.app.mark("system");
  }

  /** The selected run's per-host samples; none (or an older server) falls back to the server's own host. */
  async loadRunHosts(): Promise<void> {
    const s = this.app.state;
    const id = s.selected;
    const seq = ++this.hostSeq;
    if (!id) {
      s.hostSys = null;
      this.app.mark("system");
      return;
    }
    const queries = systemQueries(s.runs.get(id)?.hosts);
    try {
      const replies = await Promise.all(queries.map((q) => this.app.api.runSystem(id, q)));
      if (seq !== this.hostSeq || id !== s.selected) return;
      const hs = new HostSamples(id);
      for (const r of replies) hs.addAll(r.samples ?? []);
      // a live sample may have arrived while loading: keep it
      if (s.hostSys?.runId === id) for (const g of s.hostSys.sorted()) for (const smp of g.samples) hs.add({ ...smp, host: g.host, rank: g.rank });
      s.hostSys = hs.size ? hs : null;
    } catch {
      if (seq !== this.hostSeq) return;
      s.hostSys = null;
    }
    this.app.mark("system", "config");
  }

  private dropSparks(): void {
    for (const sp of this.sparks.values()) sp.destroy();
    this.sparks.clear();
  }
}

const box = (b: SysBox) =>
  `<div class="sysbox" data-sys="${esc(b.id)}"${b.title ? ` title="${esc(b.title)}"` : ""}><div class="label"><span>${esc(b.label)}</span><b></b></div><div class="spark"></div></div>`;

/** One row per host: its CPU+MEM box, then its GPUs. */
function hostRows(boxes: SysBox[]): string {
  const groups: [string, SysBox[]][] = [];
  for (const b of boxes) {
    if (groups.length && groups[groups.length - 1][0] === b.group) groups[groups.length - 1][1].push(b);
    else groups.push([b.group ?? "", [b]]);
  }
  return groups
    .map(([label, bs]) => `<div class="hostrow" data-host-row="${esc(label)}"><div class="hostname">${esc(label)}${bs.length === 1 ? ' <span class="muted">no GPU</span>' : ""}</div><div class="sys">${bs.map(box).join("")}</div></div>`)
    .join("");
}

function serverRow(boxes: SysBox[]): string {
  const gpus = boxes.length > 2;
  return `<div class="sys">${boxes.map(box).join("")}</div>` + (gpus ? "" : `<div class="nogpu" data-nogpu>NO GPU detected (NVML not available) — CPU only</div>`);
}
