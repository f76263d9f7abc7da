// The keyboard: one table drives both the key handler and the `?` help, so they cannot drift.
import type { App } from "./app";
import { COMMAND_HELP } from "./command";
import type { XMode } from "./query";

export interface Shortcut {
  /** How the help shows the keys. */
  label: string;
  help: string;
  /** KeyboardEvent.key values and what each does; none for a mouse-only row. */
  keys: Record<string, (app: App) => void>;
  /** Also while typing in an input (Escape). */
  always?: boolean;
}

const NEXT_X: Record<XMode, XMode> = { step: "time", time: "rel", rel: "step" };
const smooth = (app: App, by: number) => app.setView({ smoothing: Math.min(0.99, Math.max(0, +(app.state.view.smoothing + by).toFixed(2))) });

export const SHORTCUTS: Shortcut[] = [
  { label: "/", help: "focus the command line", keys: { "/": (a) => a.$<HTMLInputElement>("#cmd").focus() } },
  {
    label: "j / k, ↓ / ↑",
    help: "next / previous run (on to the next / previous page at the ends)",
    keys: {
      j: (a) => void a.runsPanel.moveSelection(1),
      k: (a) => void a.runsPanel.moveSelection(-1),
      ArrowDown: (a) => void a.runsPanel.moveSelection(1),
      ArrowUp: (a) => void a.runsPanel.moveSelection(-1),
    },
  },
  { label: "?", help: "this help", keys: { "?": (a) => a.toggleHelp() } },
  {
    label: "Esc",
    help: "close help, cancel a delete, leave the command line",
    always: true,
    keys: {
      Escape: (a) => {
        a.toggleHelp(false);
        a.cancelDelete();
      },
    },
  },
  { label: "t", help: "dark / light theme", keys: { t: (a) => void a.run({ kind: "theme" }) } },
  { label: "l", help: "log-scale y", keys: { l: (a) => a.setView({ logY: !a.state.view.logY }) } },
  { label: "x", help: "x axis: step → time → relative", keys: { x: (a) => a.setView({ xMode: NEXT_X[a.state.view.xMode] }) } },
  { label: "[ / ]", help: "less / more smoothing", keys: { "[": (a) => smooth(a, -0.1), "]": (a) => smooth(a, 0.1) } },
  { label: "drag, dbl-click, r", help: "zoom a chart (re-queried at full detail), reset", keys: { r: (a) => a.charts.resetZoom() } },
  { label: "v", help: "charts / layer heatmap", keys: { v: (a) => a.setMode(a.state.mode === "charts" ? "layers" : "charts") } },
  {
    label: "o / c, shift-click",
    help: "overlay another run / clear overlays / overlay that run",
    keys: {
      o: (a) => {
        const s = a.state;
        const next = s.sortedRuns().find((r) => r.id !== s.selected && !s.overlays.includes(r.id));
        if (next) a.toggleOverlay(next.id);
      },
      c: (a) => void a.run({ kind: "clear" }),
    },
  },
  { label: "b", help: "mark the selected checkpoint best", keys: { b: (a) => void a.run({ kind: "best" }) } },
];

const BY_KEY = new Map(SHORTCUTS.flatMap((s) => Object.entries(s.keys).map(([k, f]) => [k, { f, always: s.always === true }] as const)));

/** What a key press does; undefined when nothing (or the user is typing and the key is not `always`). */
export function shortcutFor(key: string, typing: boolean): ((app: App) => void) | undefined {
  const hit = BY_KEY.get(key);
  return hit && (hit.always || !typing) ? hit.f : undefined;
}

/** The `?` overlay: the shortcuts table, then the command line's commands. */
export function helpHtml(esc: (s: string) => string): string {
  const rows = (list: [string, string][]) => list.map(([k, d]) => `<tr><td><kbd>${esc(k)}</kbd></td><td>${esc(d)}</td></tr>`).join("");
  return `<div id="help" hidden><div class="box"><h3>KEYBOARD</h3><table class="kv">${rows(SHORTCUTS.map((s) => [s.label, s.help]))}</table>
  <h3>COMMAND LINE</h3><table class="kv">${rows(COMMAND_HELP)}</table>
  <p class="muted">Esc closes · <button data-act="close-help">CLOSE</button></p></div></div>`;
}
