// What the command line's commands (and the buttons and keys that reuse them) do.
import { errText } from "./api";
import type { App } from "./app";
import type { Command } from "./command";
import { filterText } from "./runfilter";
import type { Checkpoint, Run } from "./types";

export async function runCommand(app: App, c: Command): Promise<void> {
  const s = app.state;
  const run = s.selectedRun();
  const needRun = (): Run | null => {
    if (!run) app.say("no run selected", true);
    return run ?? null;
  };
  const ckpt = (): Checkpoint | null => {
    const chosen = s.actionCkpt();
    if (!chosen) app.say("no checkpoint to act on", true);
    return chosen ?? null;
  };
  try {
    switch (c.kind) {
      case "help":
        app.toggleHelp(true);
        break;
      case "select":
        await app.select(c.runId);
        app.say(`selected ${s.runs.get(c.runId)?.name ?? c.runId}`);
        break;
      case "metric":
        await app.charts.setKey(app.charts.slotFor(c.key), c.key);
        app.say(`charting ${c.key}`);
        break;
      case "stop": {
        const r = needRun();
        if (!r) break;
        s.upsertRun(await app.api.updateRun(r.id, { status: c.status }));
        app.mark("runs", "config", "actions");
        app.say(`${r.name}: ${c.status}`);
        break;
      }
      case "best": {
        const k = ckpt();
        if (!k) break;
        await app.api.markBest(k.id);
        await app.checkpoints.load(app, k.run_id);
        app.say(`★ ${k.id} is best`);
        break;
      }
      case "load": {
        const k = ckpt();
        if (!k) break;
        await app.api.load(k.id);
        app.say(`load of ${k.id} sent to the training process`);
        break;
      }
      case "delete":
        if (!needRun()) break;
        s.confirmDelete = true;
        app.mark("actions");
        app.say("confirm the delete in the ACTIONS panel");
        break;
      case "export": {
        const r = needRun();
        if (!r) break;
        const a = document.createElement("a");
        a.href = app.api.exportUrl(r.id, c.format);
        a.download = `${r.name}.${c.format}`;
        a.click();
        break;
      }
      case "theme":
        app.setTheme(c.theme ?? (s.theme === "dark" ? "light" : "dark"));
        break;
      case "view":
        app.setMode(c.view);
        break;
      case "log":
        app.setView({ logY: !s.view.logY });
        break;
      case "smooth":
        app.setView({ smoothing: c.weight });
        break;
      case "xaxis":
        app.setView({ xMode: c.mode });
        break;
      case "rate":
        app.setRate(c.rate);
        break;
      case "reset":
        app.charts.resetZoom();
        break;
      case "filter":
        app.runsPanel.setFilter(c.filter);
        app.say(filterText(c.filter) ? `filter: ${filterText(c.filter)}` : "filter cleared");
        break;
      case "page":
        if (!app.runsPanel.turnPage(c.dir)) app.say(c.dir > 0 ? "this is the last page" : "this is the first page");
        break;
      case "overlay":
        app.toggleOverlay(c.runId);
        break;
      case "clear":
        s.overlays = [];
        void app.charts.reload();
        app.mark("toolbar", "runs");
        break;
      case "error": {
        const found = c.lookup ? await app.runsPanel.lookupRun(c.lookup.text) : null;
        if (!found || !c.lookup) {
          app.say(c.message, true);
          break;
        }
        if (c.lookup.then === "overlay") app.toggleOverlay(found.id);
        else await app.select(found.id);
        app.say(`${c.lookup.then === "overlay" ? "overlaid" : "selected"} ${found.name} (not on this page of the list)`);
        break;
      }
      default:
        unknown(c);
    }
  } catch (e) {
    app.say(errText(e), true);
  }
}

/** The confirmed delete of the selected run. */
export async function deleteSelected(app: App): Promise<void> {
  const s = app.state;
  const id = s.selected;
  if (!id) return;
  s.confirmDelete = false;
  try {
    await app.api.deleteRun(id);
    s.forgetRun(id);
    app.say(`deleted ${id}`);
    await app.select(s.sortedRuns().find((r) => r.id !== id)?.id ?? null);
  } catch (e) {
    app.say(errText(e), true);
  }
  app.mark("runs", "actions");
}

function unknown(c: never): void {
  void c;
}
