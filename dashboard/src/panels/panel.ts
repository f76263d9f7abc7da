// The shape every panel has. A panel owns its markup (`html`, placed by app.ts's layout), draws
// itself from the state when marked dirty (`render`), and handles clicks, inputs and changes
// inside its own root element (the one carrying data-panel="<id>").
import type { App } from "../app";
import { esc } from "../chart";
import { formatTime } from "../format";
import { isStale, silentFor } from "../liveness";
import type { PanelId } from "../state";
import type { Run } from "../types";

export interface Panel {
  id: PanelId;
  /** The panel's markup; its root element carries data-panel="<id>". */
  html(): string;
  /** Redraws from app.state; called at most once per animation frame, only when marked. */
  render(app: App): void;
  /** A click inside the panel; true when handled. */
  onClick?(app: App, target: HTMLElement, e: MouseEvent): boolean;
  /** An `input` event inside the panel (typing, dragging a range). */
  onInput?(app: App, target: HTMLInputElement): void;
  /** A `change` event inside the panel (a select, a committed number). */
  onChange?(app: App, target: HTMLInputElement | HTMLSelectElement): void;
  /** Once, after the layout is in the page (charts create their uPlot hosts here). */
  mount?(app: App): void;
}

const STATUS_BADGE: Record<string, string> = {
  running: "● RUNNING",
  completed: "✓ COMPLETED",
  failed: "✗ FAILED",
  interrupted: "‖ INTERRUPTED",
  cancelled: "■ CANCELLED",
};

/** Status badge, plus STALE while a running run's trainer is silent (runs, config, actions). */
export function badges(r: Run, now: number): string {
  return `<span class="badge ${r.status}">[${STATUS_BADGE[r.status] ?? r.status.toUpperCase()}]</span> ${staleBadge(r, now)}`;
}

/** "◌ STALE" while a running run's trainer is silent, else "". */
export function staleBadge(r: Run, now: number): string {
  if (!isStale(r)) return "";
  const quiet = silentFor(r.last_seen, now);
  return `<span class="badge stale" data-stale title="no report from the trainer${quiet ? " for " + quiet : ""} (last seen ${esc(formatTime(r.last_seen))}); ETA and cost are frozen">◌ STALE</span>`;
}
