// EVENT LOG: the server's event log, newest first, live over the WebSocket, capped at MAX_EVENTS.
import type { App } from "../app";
import { esc } from "../chart";
import { formatTime } from "../format";
import type { Panel } from "./panel";

export const eventsPanel: Panel & { load(app: App): Promise<void> } = {
  id: "events",
  html: () => `<section class="panel" id="p-events" data-panel="events"><h2>EVENT LOG</h2><div class="body" id="events"></div></section>`,

  render(app) {
    const s = app.state;
    if (s.pendingEvents.length) {
      s.mergeEvents(s.pendingEvents);
      s.pendingEvents = [];
    }
    const body = app.$("#p-events .body");
    if (!s.events.length) {
      body.innerHTML = `<div class="state">no events yet</div>`;
      return;
    }
    const html: string[] = [];
    for (let i = s.events.length - 1; i >= 0; i--) {
      const e = s.events[i];
      const name = e.run_id ? s.runs.get(e.run_id)?.name ?? e.run_id : "";
      html.push(
        `<div class="ev ${esc(e.type)}${e.run_id && e.run_id === s.selected ? " mine" : ""}" title="${esc(e.message)}"><span class="t">${formatTime(e.timestamp).slice(11)}</span> <span class="k">${esc(e.type)}</span> ${esc(name)} ${esc(e.message)}</div>`,
      );
    }
    body.innerHTML = html.join("");
  },

  async load(app) {
    try {
      app.state.mergeEvents((await app.api.events(200)).events);
    } catch {
      /* the event log stays as it is; the banner tells about the connection */
    }
    app.mark("events");
  },
};
