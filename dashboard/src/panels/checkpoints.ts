// CHECKPOINTS: the selected run's checkpoints, sortable by any column (metrics included), ★ best;
// a click on a row shows its details and makes it the one the actions panel acts on.
import { errText } from "../api";
import type { App } from "../app";
import { esc } from "../chart";
import { formatTime, formatValue } from "../format";
import { metricColumns, nextSort, sortCheckpoints } from "../sort";
import { failed, ready } from "../state";
import type { Panel } from "./panel";

export const checkpointsPanel: Panel & { load(app: App, runId: string): Promise<void> } = {
  id: "checkpoints",
  html: () =>
    `<section class="panel" id="p-ckpt" data-panel="checkpoints"><h2>CHECKPOINTS <span class="count muted"></span><span class="spacer"></span><span class="muted">click a header to sort, a row for details</span></h2><div class="body"></div></section>`,

  render(app) {
    const s = app.state;
    const body = app.$("#p-ckpt .body");
    const head = app.$("#p-ckpt .count");
    head.textContent = "";
    if (!s.selected) {
      body.innerHTML = `<div class="state">no run selected</div>`;
      return;
    }
    const l = s.checkpoints;
    if (l.state !== "ready") {
      body.innerHTML = l.state === "loading" ? `<div class="state">loading checkpoints…</div>` : `<div class="state error" data-ckpt-error>cannot load checkpoints: ${esc(l.error)}</div>`;
      return;
    }
    const all = l.value;
    head.textContent = String(all.length);
    if (!all.length) {
      body.innerHTML = `<div class="state">no checkpoints for this run yet</div>`;
      return;
    }
    const sort = s.ckptSort;
    const mcols = metricColumns(all);
    const cols: [string, string, boolean][] = [
      ["id", "ID", false],
      ["step", "STEP", true],
      ...mcols.map((k): [string, string, boolean] => [`m:${k}`, k.toUpperCase(), true]),
      ["created_at", "CREATED", false],
      ["filepath", "FILE", false],
    ];
    const arrow = (c: string) => (sort.column === c ? (sort.dir === "asc" ? " ▲" : " ▼") : "");
    const rows = sortCheckpoints(all, sort).map(
      (c) => `<tr class="row${c.id === s.selectedCkpt ? " selected" : ""}" data-ckpt-id="${esc(c.id)}">
        <td>${esc(c.id)}${c.is_best ? ' <span class="star" title="best">★</span>' : ""}</td>
        <td class="num">${c.step}</td>
        ${mcols.map((k) => `<td class="num">${formatValue(c.metrics?.[k])}</td>`).join("")}
        <td>${formatTime(c.created_at)}</td><td class="muted" title="${esc(c.filepath)}">${esc(shorten(c.filepath, 40))}</td></tr>`,
    );
    const sel = all.find((c) => c.id === s.selectedCkpt);
    body.innerHTML =
      `<table data-sort="${esc(sort.column)}:${sort.dir}"><thead><tr>${cols
        .map(([c, label, num]) => `<th class="sortable${num ? " num" : ""}${sort.column === c ? " sorted" : ""}" data-sort-col="${esc(c)}">${esc(label)}${arrow(c)}</th>`)
        .join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>` +
      (sel ? `<div class="sub">CHECKPOINT ${esc(sel.id)}</div><pre class="detail" data-ckpt-detail>${esc(JSON.stringify({ filepath: sel.filepath, step: sel.step, is_best: sel.is_best, metrics: sel.metrics, metadata: sel.metadata }, null, 1))}</pre>` : "");
  },

  onClick(app, t) {
    const s = app.state;
    const th = t.closest<HTMLElement>("[data-sort-col]");
    if (th) {
      s.ckptSort = nextSort(s.ckptSort, th.dataset.sortCol!);
      app.mark("checkpoints");
      return true;
    }
    const row = t.closest<HTMLElement>("[data-ckpt-id]");
    if (!row) return false;
    s.selectedCkpt = row.dataset.ckptId === s.selectedCkpt ? null : row.dataset.ckptId!;
    app.mark("checkpoints", "actions");
    return true;
  },

  async load(app, runId) {
    const s = app.state;
    try {
      const { checkpoints } = await app.api.checkpoints(runId);
      if (runId === s.selected) s.checkpoints = ready(checkpoints);
    } catch (e) {
      if (runId === s.selected) s.checkpoints = failed(errText(e));
    }
    app.mark("checkpoints", "actions");
  },
};

function shorten(s: string, n: number): string {
  return s.length <= n ? s : "…" + s.slice(s.length - n + 1);
}
