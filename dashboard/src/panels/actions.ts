// ACTIONS: stop / interrupt the selected run, delete it (asks to confirm), mark best / load the
// chosen checkpoint, export; the newest command queued for the run (WS `command`).
import { deleteSelected } from "../actions";
import { esc } from "../chart";
import type { Command } from "../command";
import { staleBadge, type Panel } from "./panel";

/** Buttons that are command-line commands. */
const BUTTONS: Record<string, Command> = {
  stop: { kind: "stop", status: "cancelled" },
  interrupt: { kind: "stop", status: "interrupted" },
  best: { kind: "best" },
  load: { kind: "load" },
  delete: { kind: "delete" },
};

export const actionsPanel: Panel = {
  id: "actions",
  html: () => `<section class="panel" id="p-actions" data-panel="actions"><h2>ACTIONS</h2><div class="body"></div></section>`,

  render(app) {
    const s = app.state;
    const body = app.$("#p-actions .body");
    const r = s.selectedRun();
    if (!r) {
      body.innerHTML = `<div class="state">select a run to act on it</div>`;
      return;
    }
    const ck = s.actionCkpt();
    const live = r.status === "running";
    const cmd = s.commands.get(r.id);
    body.innerHTML = `
      <div class="sub">RUN ${esc(r.name)} ${staleBadge(r, Date.now())}</div>
      <div class="actions">
        <button data-act="stop" ${live ? "" : "disabled"} title="PUT status cancelled">STOP</button>
        <button data-act="interrupt" ${live ? "" : "disabled"} title="PUT status interrupted">INTERRUPT</button>
        <button data-act="delete" class="danger">DELETE RUN</button>
      </div>
      ${s.confirmDelete ? `<div class="confirm" data-confirm>Delete ${esc(r.name)} with all its metrics, checkpoints and events? <button data-act="confirm-delete" class="danger">YES, DELETE</button> <button data-act="cancel-delete">NO</button></div>` : ""}
      <div class="sub">CHECKPOINT ${ck ? esc(ck.id) + (ck.is_best ? " ★" : "") : "—"}</div>
      <div class="actions">
        <button data-act="best" ${ck ? "" : "disabled"}>MARK BEST</button>
        <button data-act="load" ${ck ? "" : "disabled"}>LOAD</button>
      </div>
      ${cmd ? `<div class="muted" data-last-command="${esc(cmd.type)}"${cmd.id != null ? ` title="command ${cmd.id}"` : ""}>queued for the trainer: ${esc(cmd.type)}${cmd.checkpoint_id ? " " + esc(cmd.checkpoint_id) : ""}</div>` : ""}
      <div class="sub">EXPORT</div>
      <div class="actions">
        <a href="${esc(app.api.exportUrl(r.id, "csv"))}" download data-export="csv">CSV</a>
        <a href="${esc(app.api.exportUrl(r.id, "json"))}" download data-export="json">JSON</a>
        <a href="${esc(app.api.exportUrl(r.id, "jsonl"))}" download data-export="jsonl">JSONL</a>
      </div>
      <div class="sub">COMPARE</div>
      <div class="actions"><span class="muted">o on a run row (or overlay &lt;name&gt;) overlays it</span></div>`;
  },

  onClick(app, t) {
    const act = t.closest<HTMLElement>("button")?.dataset.act;
    if (!act) return false;
    if (BUTTONS[act]) void app.run(BUTTONS[act]);
    else if (act === "cancel-delete") app.cancelDelete();
    else if (act === "confirm-delete") void deleteSelected(app);
    else return false;
    return true;
  },
};
