// RUNS: one server page of the (filtered) run list with status, STALE, step, progress, ETA and cost;
// the filter row and pager ask the server again. Owns loading that page and moving through it.
import { ApiError, errText } from "../api";
import type { App } from "../app";
import { esc } from "../chart";
import { formatCost, formatDuration, formatEta, formatStep } from "../format";
import { isStale, runElapsedHours } from "../liveness";
import { progressView } from "../progress";
import { RUN_STATUSES, clampOffset, filterText, pageLabel, pageOffset, runsQuery, sameFilter, type RunFilter } from "../runfilter";
import { failed, ready } from "../state";
import type { Run } from "../types";
import { badges, type Panel } from "./panel";

export class RunsPanel implements Panel {
  readonly id = "runs";
  private seq = 0;
  /** j/k went past the page: the row to select once the new page is shown. */
  private selectOnPage: "first" | "last" | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private filterTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private app: App) {}

  html(): string {
    return `<section class="panel" id="p-runs" data-panel="runs"><h2>RUNS <span class="spacer"></span><span class="count muted"></span><span class="pager" hidden><button data-act="page-prev" title="previous page (prev)">◀</button><button data-act="page-next" title="next page (next)">▶</button></span></h2>
    <div class="runfilter"><select id="f-status" title="status"><option value="">all statuses</option>${RUN_STATUSES.map((st) => `<option value="${st}">${st}</option>`).join("")}</select><input id="f-tag" placeholder="tag" autocomplete="off" spellcheck="false" title="exact tag"><input id="f-q" placeholder="name contains" autocomplete="off" spellcheck="false" title="name substring (case-insensitive)"><button data-act="clear-filter" title="show every run">✕</button></div>
    <div class="body"></div></section>`;
  }

  mount(app: App): void {
    for (const sel of ["#f-tag", "#f-q"])
      app.$(sel).addEventListener("keydown", (e) => {
        if ((e as KeyboardEvent).key !== "Enter") return;
        this.cancelFilterTimer();
        this.setFilter(this.filterFromRow());
      });
  }

  render(app: App): void {
    const s = app.state;
    const body = app.$("#p-runs .body");
    if (s.runsLoad.state !== "ready") {
      const err = s.runsLoad.state === "error" ? s.runsLoad.error : "";
      // a failed reload keeps the page it has; only a first load that failed says so in place of the list
      if (!s.list.loaded) {
        body.innerHTML = `<div class="state${err ? " error" : ""}">${err ? "cannot load runs: " + esc(err) : "loading runs…"}</div>`;
        return;
      }
    }
    const runs = s.sortedRuns();
    const now = Date.now();
    let totalCost = 0;
    const rows = runs.map((r) => {
      // a stale run's clock stops at last_seen: its ETA and cost stop growing
      const hours = runElapsedHours(r, now);
      const cost = hours * s.rate;
      totalCost += cost;
      const progress = progressView(r.last_step, r.total_steps, r.progress);
      const elapsed = hours * 3600;
      const overlayIdx = s.overlays.indexOf(r.id);
      const sw = r.id === s.selected ? 0 : overlayIdx >= 0 ? overlayIdx + 1 : -1;
      return `<tr class="row${r.id === s.selected ? " selected" : ""}${isStale(r) ? " stale" : ""}" data-run-id="${esc(r.id)}">
        <td>${badges(r, now)}</td>
        <td class="runname" title="${esc(r.id)}">${sw >= 0 ? `<i class="swatch" style="background:var(--series-${sw})"></i> ` : ""}${esc(r.name)}</td>
        <td class="num">${formatStep(r.last_step)}${r.total_steps ? "/" + formatStep(r.total_steps) : ""}</td>
        <td class="progress${progress?.over ? " over" : ""}">${progress ? `<span class="bar"><i style="width:${(progress.fraction * 100).toFixed(1)}%"></i></span> ${esc(progress.label)}` : ""}</td>
        <td class="num">${r.status === "running" ? formatEta(r.last_step, r.total_steps, elapsed) : formatDuration(elapsed)}</td>
        <td class="num">${formatCost(cost)}</td></tr>`;
    });
    const l = s.list;
    const err = s.runsLoad.state === "error" ? ` · <span class="err" data-runs-error title="${esc(s.runsLoad.error)}">reload failed</span>` : "";
    app.$("#p-runs .count").innerHTML = `${esc(pageLabel(l.offset, runs.length, l.total))} · ${esc(formatCost(totalCost))} shown${err}`;
    const pager = app.$("#p-runs .pager");
    const prev = pageOffset(l.offset, l.total, -1, l.limit);
    const next = pageOffset(l.offset, l.total, 1, l.limit);
    pager.hidden = prev == null && next == null;
    pager.querySelector<HTMLButtonElement>('[data-act="page-prev"]')!.disabled = prev == null;
    pager.querySelector<HTMLButtonElement>('[data-act="page-next"]')!.disabled = next == null;
    const filtered = filterText(l.filter);
    body.innerHTML = runs.length
      ? `<table><thead><tr><th>STATUS</th><th>NAME</th><th class="num">STEP</th><th>PROGRESS</th><th class="num">ETA/DUR</th><th class="num">COST</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
      : filtered
        ? `<div class="state" data-no-match>no run matches <b>${esc(filtered)}</b> — <button data-act="clear-filter">CLEAR FILTER</button></div>`
        : `<div class="state">no runs yet — start one with tmon::server, tmon::monitor or POST /api/runs</div>`;
  }

  onClick(app: App, t: HTMLElement, e: MouseEvent): boolean {
    const row = t.closest<HTMLElement>("[data-run-id]");
    if (row) {
      if (e.shiftKey || e.ctrlKey || e.metaKey) app.toggleOverlay(row.dataset.runId!);
      else void app.select(row.dataset.runId!);
      return true;
    }
    const act = t.closest<HTMLElement>("button")?.dataset.act;
    if (act === "page-prev") this.turnPage(-1);
    else if (act === "page-next") this.turnPage(1);
    else if (act === "clear-filter") this.setFilter({ status: "", tag: "", q: "" });
    else return false;
    return true;
  }

  onInput(_app: App, t: HTMLInputElement): void {
    if (t.id !== "f-tag" && t.id !== "f-q") return;
    // typing: ask the server once the user pauses
    this.cancelFilterTimer();
    this.filterTimer = setTimeout(() => {
      this.filterTimer = null;
      this.setFilter(this.filterFromRow());
    }, 250);
  }

  onChange(_app: App, t: HTMLInputElement | HTMLSelectElement): void {
    if (t.id === "f-status") this.setFilter(this.filterFromRow());
  }

  // ---- the page on the server ---------------------------------------------------------------------

  /** Loads the current page of the (filtered) run list from the server. */
  async load(selectFirst: boolean): Promise<void> {
    const app = this.app;
    const s = app.state;
    const seq = ++this.seq;
    const filter = { ...s.list.filter };
    s.createdInFlight = [];
    try {
      let offset = s.list.offset;
      let reply = await app.api.runs(runsQuery(filter, offset, s.list.limit));
      if (!reply.runs.length && offset > 0 && reply.total > 0) {
        // runs vanished since this page was loaded: show the last page that still has any
        offset = clampOffset(offset, reply.total, s.list.limit);
        reply = await app.api.runs(runsQuery(filter, offset, s.list.limit));
      }
      if (seq !== this.seq) return;
      const keep = new Set([s.selected, ...s.overlays, ...(s.createdInFlight ?? []).map((r) => r.id)]);
      for (const id of [...s.runs.keys()]) if (!keep.has(id)) s.runs.delete(id);
      for (const r of reply.runs) {
        s.runs.set(r.id, r);
        if (r.last_step != null) s.live.newestStep.set(r.id, Math.max(r.last_step, s.live.newestStep.get(r.id) ?? -1));
      }
      s.list.setPage(reply.runs, reply.total, offset);
      for (const c of s.createdInFlight ?? []) {
        const r = s.runs.get(c.id); // the newest copy; gone when deleted meanwhile
        if (r && !s.list.has(r.id)) s.list.onCreated(r);
      }
      s.createdInFlight = null;
      s.runsLoad = ready(true);
      if (this.selectOnPage && s.list.ids.length) {
        const id = this.selectOnPage === "first" ? s.list.ids[0] : s.list.ids[s.list.ids.length - 1];
        this.selectOnPage = null;
        void app.select(id);
        requestAnimationFrame(() => this.scrollTo(id));
      }
      // runs kept off this page (selected, overlays) may have changed or gone: ask for them by id
      for (const id of [s.selected, ...s.overlays]) if (id && !s.list.has(id)) void this.refreshRun(id);
      if (!s.selected && selectFirst && s.list.ids.length) await app.select(s.list.ids[0]);
    } catch (e) {
      if (seq !== this.seq) return;
      s.createdInFlight = null;
      s.runsLoad = failed(errText(e));
    }
    app.mark("runs", "config", "actions");
  }

  /** One page reload after a burst of creations / deletions (the list is already updated in place). */
  reloadSoon(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      void this.load(false);
    }, 1000);
  }

  /** Re-reads one run; one that is gone leaves the selection and the overlays. */
  async refreshRun(id: string): Promise<void> {
    const app = this.app;
    try {
      app.state.upsertRun(await app.api.run(id));
      app.mark("runs", "config", "actions");
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) return;
      app.state.forgetRun(id);
      if (app.state.selected === id) await app.select(app.state.list.ids[0] ?? null);
      app.mark("runs", "toolbar", "charts");
    }
  }

  /** A run by name on the server (exact name first, then the newest whose name contains the text), or null. */
  async lookupRun(text: string): Promise<Run | null> {
    const app = this.app;
    try {
      const { runs } = await app.api.runs(runsQuery({ status: "", tag: "", q: text }, 0, 50));
      const t = text.toLowerCase();
      const r = runs.find((x) => x.id.toLowerCase() === t || x.name.toLowerCase() === t) ?? runs.find((x) => x.name.toLowerCase().startsWith(t)) ?? runs[0];
      const hit = r ?? (await app.api.run(text).catch(() => null)); // an id of a run on another page
      if (!hit) return null;
      app.state.upsertRun(hit);
      app.mark("runs", "config", "actions");
      return hit;
    } catch {
      return null;
    }
  }

  /** New filter: back to the server, first page. */
  setFilter(filter: RunFilter): void {
    const l = this.app.state.list;
    if (sameFilter(filter, l.filter)) return;
    this.selectOnPage = null;
    l.filter = { ...filter };
    l.offset = 0;
    this.syncFilterRow();
    void this.load(false);
  }

  /** False at the first / last page. */
  turnPage(dir: -1 | 1): boolean {
    const l = this.app.state.list;
    const next = pageOffset(l.offset, l.total, dir, l.limit);
    if (next == null) return false;
    this.selectOnPage = null;
    l.offset = next;
    void this.load(false);
    return true;
  }

  /** j/k: the next / previous run, on to the next / previous page at the ends. */
  async moveSelection(delta: number): Promise<void> {
    const s = this.app.state;
    const runs = s.sortedRuns();
    if (!runs.length) return;
    const i = runs.findIndex((r) => r.id === s.selected);
    const dir = delta > 0 ? 1 : -1;
    const edge = i >= 0 && (dir > 0 ? i === runs.length - 1 : i === 0);
    const turned = edge ? pageOffset(s.list.offset, s.list.total, dir, s.list.limit) : null;
    if (turned != null) {
      s.list.offset = turned;
      this.selectOnPage = dir > 0 ? "first" : "last"; // whichever load of that page lands
      await this.load(false);
      return;
    }
    const next = runs[Math.max(0, Math.min(runs.length - 1, i < 0 ? 0 : i + delta))];
    void this.app.select(next.id);
    this.scrollTo(next.id);
  }

  private scrollTo(id: string): void {
    this.app.$("#p-runs").querySelector(`[data-run-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  private cancelFilterTimer(): void {
    if (this.filterTimer) clearTimeout(this.filterTimer);
    this.filterTimer = null;
  }

  private syncFilterRow(): void {
    const f = this.app.state.list.filter;
    const set = (sel: string, v: string) => {
      const el = this.app.$<HTMLInputElement | HTMLSelectElement>(sel);
      if (el.value !== v) el.value = v;
    };
    set("#f-status", f.status);
    set("#f-tag", f.tag);
    set("#f-q", f.q);
  }

  private filterFromRow(): RunFilter {
    const v = (sel: string) => this.app.$<HTMLInputElement | HTMLSelectElement>(sel).value.trim();
    return { status: v("#f-status") as RunFilter["status"], tag: v("#f-tag"), q: v("#f-q") };
  }
}
