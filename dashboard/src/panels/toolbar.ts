// The bar under the command line: view, smoothing, log y, x axis, zoom reset, overlays, rate, theme.
import { cssVar, esc } from "../chart";
import type { XMode } from "../query";
import type { Panel } from "./panel";

export const SERIES_COLORS = 8;

export const toolbarPanel: Panel = {
  id: "toolbar",
  html: () => `<nav id="toolbar" data-panel="toolbar"></nav>`,

  render(app) {
    const s = app.state;
    const v = s.view;
    const overlays = s.overlays
      .map((id, i) => `<span class="chip" data-overlay="${esc(id)}" title="remove overlay"><i class="swatch" style="background:${cssVar(`--series-${(i + 1) % SERIES_COLORS}`)}"></i>${esc(s.runs.get(id)?.name ?? id)} ✕</span>`)
      .join("");
    const on = (b: boolean) => (b ? "on" : "");
    app.$("#toolbar").innerHTML = `
      <span class="group">VIEW <button data-mode="charts" class="${on(s.mode === "charts")}">CHARTS</button><button data-mode="layers" class="${on(s.mode === "layers")}">LAYERS</button></span>
      <label title="EMA smoothing ([ and ])">SMOOTH <input id="smooth" type="range" min="0" max="0.99" step="0.01" value="${v.smoothing}"><b>${v.smoothing.toFixed(2)}</b></label>
      <span class="group"><button data-toggle="log" class="${on(v.logY)}" title="log-scale y (l)">LOG Y</button></span>
      <span class="group">X <button data-x="step" class="${on(v.xMode === "step")}">STEP</button><button data-x="time" class="${on(v.xMode === "time")}">TIME</button><button data-x="rel" class="${on(v.xMode === "rel")}">REL</button></span>
      <span class="group"><button data-act="reset" title="reset zoom (r)">RESET ZOOM</button></span>
      <span class="group">OVERLAY ${overlays || '<span class="muted">none (o on a run)</span>'}</span>
      <label title="hourly price for the cost column">RATE $<input id="rate" type="number" min="0" step="0.01" value="${s.rate}">/h</label>
      <span class="group"><button data-act="theme" title="toggle theme (t)">${s.theme === "dark" ? "LIGHT" : "DARK"}</button><button data-act="help" title="shortcuts (?)">?</button></span>`;
  },

  onClick(app, t) {
    const ov = t.closest<HTMLElement>("[data-overlay]");
    if (ov) return app.toggleOverlay(ov.dataset.overlay!), true;
    const btn = t.closest<HTMLElement>("button");
    if (!btn) return false;
    if (btn.dataset.mode) app.setMode(btn.dataset.mode as "charts" | "layers");
    else if (btn.dataset.x) app.setView({ xMode: btn.dataset.x as XMode });
    else if (btn.dataset.toggle === "log") app.setView({ logY: !app.state.view.logY });
    else if (btn.dataset.act === "reset") app.charts.resetZoom();
    else if (btn.dataset.act === "theme") void app.run({ kind: "theme" });
    else if (btn.dataset.act === "help") app.toggleHelp(true);
    else return false;
    return true;
  },

  onInput(app, t) {
    if (t.id === "smooth") app.setView({ smoothing: Number(t.value) });
  },

  onChange(app, t) {
    if (t.id === "rate") void app.run({ kind: "rate", rate: Math.max(0, Number(t.value) || 0) });
  },
};
