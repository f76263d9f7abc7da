// RUN CONFIG: the selected run's details (status, times, last seen, duration, ETA, cost, hosts, tags)
// and its config, flattened to dotted keys.
import { esc } from "../chart";
import { formatCost, formatDuration, formatEta, formatTime } from "../format";
import { hostLabel, mergeHosts } from "../hosts";
import { isStale, runElapsedHours, silentFor } from "../liveness";
import { stepLine } from "../progress";
import { badges, type Panel } from "./panel";

export const configPanel: Panel = {
  id: "config",
  html: () => `<section class="panel" id="p-config" data-panel="config"><h2>RUN CONFIG</h2><div class="body"></div></section>`,

  render(app) {
    const s = app.state;
    const body = app.$("#p-config .body");
    const r = s.selectedRun();
    if (!r) {
      body.innerHTML = `<div class="state">${s.list.loaded ? "no run selected (j/k or type a name)" : "loading…"}</div>`;
      return;
    }
    const now = Date.now();
    const hours = runElapsedHours(r, now);
    const stale = isStale(r);
    const hosts = mergeHosts(r.hosts, s.hostSys?.runId === r.id ? s.hostSys.sorted() : []);
    const meta: [string, string][] = [
      ["id", esc(r.id)],
      ["status", badges(r, now)],
      ["started", formatTime(r.start_time ?? r.created_at)],
      ["ended", formatTime(r.end_time)],
      ["last seen", r.last_seen ? `${formatTime(r.last_seen)}${r.status === "running" ? ` <span class="muted">(${silentFor(r.last_seen, now)} ago)</span>` : ""}` : "--"],
      ["duration", formatDuration(hours * 3600) + (stale ? ' <span class="muted">(frozen at last seen)</span>' : "")],
      ["step", esc(stepLine(r.last_step, r.total_steps))],
      ["eta", r.status === "running" ? formatEta(r.last_step, r.total_steps, hours * 3600) + (stale ? ' <span class="muted">(stale)</span>' : "") : "--"],
      ["cost", `${formatCost(hours * s.rate)} <span class="muted">(${hours.toFixed(2)} h × $${s.rate}/h)</span>`],
      [
        "hosts",
        hosts.length
          ? `<span data-hosts="${hosts.length}">${hosts.length}</span> <span class="muted">·</span> ${hosts
              .map((h) => `<span class="host" title="last seen ${esc(formatTime(h.last_seen))}">${esc(hostLabel(h.host, h.rank))}</span>`)
              .join(", ")}`
          : "--",
      ],
      ["tags", esc((r.tags ?? []).join(", ") || "--")],
    ];
    if (r.notes) meta.push(["notes", esc(r.notes)]);
    const cfg = flatten(r.config ?? {});
    body.innerHTML =
      `<table class="kv">${meta.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>` +
      `<div class="sub">CONFIG</div>` +
      (cfg.length ? `<table class="kv">${cfg.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join("")}</table>` : `<div class="state">empty config</div>`);
  },
};

function flatten(obj: Record<string, unknown>, prefix = "", out: [string, string][] = []): [string, string][] {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v) && out.length < 200) flatten(v as Record<string, unknown>, key, out);
    else out.push([key, typeof v === "string" ? v : JSON.stringify(v)]);
  }
  return out;
}
