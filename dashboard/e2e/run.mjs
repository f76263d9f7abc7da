// End-to-end: the real tmon-server, a REST training client, the page in Debian's chromium.
// Screenshots of the main views go to a scratch folder (E2E_SHOTS_DIR, else $TMPDIR/tmon-e2e-shots);
// only `npm run screenshots` (--update-screenshots) rewrites the committed docs/screenshots/.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { client, feedRun, freePort, launchBrowser, repoDir, startServer, tempDir, waitFor } from "./lib.mjs";
import { filterSteps, hostSteps, staleSteps } from "./runs_remote.mjs";

const committedShots = join(repoDir, "docs/screenshots");
const updating = process.argv.includes("--update-screenshots");
const shots = updating ? committedShots : process.env.E2E_SHOTS_DIR || join(tmpdir(), "tmon-e2e-shots");
// a plain e2e run (scripts/test.sh) must leave the work tree as it found it
const pngTimes = () => {
  try {
    return Object.fromEntries(readdirSync(committedShots).filter((f) => f.endsWith(".png")).map((f) => [f, statSync(join(committedShots, f)).mtimeMs]));
  } catch {
    return {};
  }
};
const pngsBefore = pngTimes();
mkdirSync(shots, { recursive: true });
const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([true, name]);
    console.log(`  ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push([false, name]);
    console.log(`  FAIL ${name}\n       ${String(e.stack || e).split("\n").slice(0, 14).join("\n       ")}`);
    throw e;
  }
}

const tmp = tempDir("tmon-e2e-");
const db = join(tmp.dir, "runs.db");
const port = await freePort();
let server = await startServer({ port, db });
const api = client(server.url);
const browser = await launchBrowser();
const { page } = browser;
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));

const attr = (sel, name) => page.locator(sel).first().getAttribute(name);
const chartPoints = async (sel) => Number((await attr(sel, "data-points")) ?? 0);

try {
  console.log(`tmon-server ${server.url} (db ${db})`);
  const gpt = await feedRun(api, { name: "e2e-gpt-small", steps: 200, seed: 2, checkpoints: 2 });
  const main = await feedRun(api, { name: "e2e-resnet", steps: 400, checkpoints: 4 });
  const runId = main.run.id;

  await step("the page loads and the run appears in the run list", async () => {
    await page.goto(server.url + "/");
    await page.locator(`[data-run-id="${runId}"]`).waitFor({ timeout: 10000 });
    assert.match(await page.locator(`[data-run-id="${runId}"] .badge`).innerText(), /RUNNING/);
  });

  await step("the newest run is selected and both charts have points", async () => {
    await waitFor(async () => (await page.locator("#p-runs tr.selected").getAttribute("data-run-id")) === runId, { what: "selection" });
    await waitFor(async () => (await chartPoints("#p-chart-a .chart-body")) > 0 && (await chartPoints("#p-chart-b .chart-body")) > 0, { what: "chart points" });
    assert.equal(await attr("#p-chart-a .chart-body", "data-key"), "loss");
    assert.equal(await attr("#p-chart-b .chart-body", "data-key"), "lr");
    const pts = await chartPoints("#p-chart-a .chart-body");
    assert.ok(pts > 0 && pts <= 400, `loss chart holds ${pts} points`);
    assert.equal(await page.locator("#p-chart-a canvas").count(), 1);
  });

  await step("the run config, system panel and event log are filled", async () => {
    await waitFor(async () => (await page.locator("#p-config").innerText()).includes("batch_size"), { what: "config" });
    await waitFor(async () => (await page.locator("#events .ev").count()) > 0, { what: "events" });
    await waitFor(async () => (await page.locator("#p-system [data-sys=cpu]").count()) === 1, { what: "system panel", timeout: 8000 });
  });

  await step("a point logged after page load appears without a reload", async () => {
    await page.evaluate(() => ((window).__e2eMarker = 42));
    await api.post(`/api/runs/${runId}/metrics`, { step: 777, metrics: { loss: 0.0123, lr: 1e-4 } });
    await waitFor(async () => Number(await attr("#p-chart-a .chart-body", "data-last-step")) === 777, { what: "live point in chart", timeout: 5000 });
    assert.equal(await page.evaluate(() => (window).__e2eMarker), 42, "the page was not reloaded");
    await waitFor(async () => (await page.locator(`[data-run-id="${runId}"]`).innerText()).includes("777"), { what: "run list step" });
  });

  await step("zooming a chart re-queries the range and reset restores it", async () => {
    const box = await page.locator("#p-chart-a .u-over").boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await waitFor(async () => (await attr("#p-chart-a .chart-body", "data-zoomed")) === "1" && (await chartPoints("#p-chart-a .chart-body")) > 0, { what: "zoom" });
    const last = Number(await attr("#p-chart-a .chart-body", "data-last-step"));
    assert.ok(last < 777, `zoomed range ends before the newest step (${last})`);
    await page.keyboard.press("r");
    await waitFor(async () => (await attr("#p-chart-a .chart-body", "data-zoomed")) === "0" && Number(await attr("#p-chart-a .chart-body", "data-last-step")) === 777, { what: "reset zoom" });
  });

  await step("the checkpoint table sorts by any column", async () => {
    const steps = async () => (await page.locator("#p-ckpt tbody tr").evaluateAll((rows) => rows.map((r) => Number(r.children[1].textContent))));
    await waitFor(async () => (await steps()).length === 4, { what: "4 checkpoints" });
    await page.locator('#p-ckpt th[data-sort-col="step"]').click();
    await waitFor(async () => JSON.stringify(await steps()) === JSON.stringify([...(await steps())].sort((a, b) => a - b)), { what: "ascending" });
    const asc = await steps();
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    await page.locator('#p-ckpt th[data-sort-col="step"]').click();
    await waitFor(async () => (await steps())[0] === Math.max(...asc), { what: "descending" });
    await page.locator('#p-ckpt th[data-sort-col="m:loss"]').click();
    await waitFor(async () => (await attr("#p-ckpt table", "data-sort")) === "m:loss:desc", { what: "sorted by loss" });
    const col = await page.locator("#p-ckpt th").evaluateAll((ths) => ths.findIndex((th) => th.dataset.sortCol === "m:loss"));
    const losses = await page.locator("#p-ckpt tbody tr").evaluateAll((rows, i) => rows.map((r) => Number(r.children[i].textContent)), col);
    assert.deepEqual(losses, [...losses].sort((a, b) => b - a));
  });

  const target = main.ckpts[1];
  await step("mark best round-trips through the server and shows ★", async () => {
    await page.locator(`[data-ckpt-id="${target.id}"]`).click();
    await page.locator("[data-ckpt-detail]").waitFor();
    await page.locator('button[data-act="best"]').click();
    await waitFor(async () => (await api.get(`/api/checkpoints/${target.id}`)).is_best === true, { what: "is_best over REST" });
    await waitFor(async () => (await page.locator(`[data-ckpt-id="${target.id}"] .star`).count()) === 1, { what: "★ in table" });
    await page.locator(`[data-ckpt-id="${main.ckpts[2].id}"]`).click();
    await page.locator('button[data-act="best"]').click();
    await waitFor(async () => (await api.get(`/api/checkpoints/${main.ckpts[2].id}`)).is_best === true, { what: "second best" });
    assert.equal((await api.get(`/api/checkpoints/${target.id}`)).is_best, false, "the previous best is unmarked");
    await waitFor(async () => (await page.locator("#p-ckpt .star").count()) === 1, { what: "one ★" });
  });

  await step("load sends a load_checkpoint command to the training process", async () => {
    await page.locator(`[data-ckpt-id="${target.id}"]`).click();
    await page.locator('button[data-act="load"]').click();
    await waitFor(
      async () => (await api.get(`/api/runs/${runId}/commands`)).commands.some((c) => c.type === "load_checkpoint" && c.checkpoint_id === target.id),
      { what: "command over REST" },
    );
    // the server's WS `command` message reaches the page: the actions panel shows what was queued
    await page.locator('[data-last-command="load_checkpoint"]').waitFor({ timeout: 5000 });
    assert.match(await page.locator("[data-last-command]").innerText(), new RegExp(`queued for the trainer: load_checkpoint ${target.id}`));
  });

  await step("screenshot: dashboard (dark)", async () => {
    await page.locator(`[data-ckpt-id="${target.id}"]`).click(); // deselect: keep the table compact
    await page.waitForTimeout(1200);
    await page.screenshot({ path: join(shots, "dashboard.png") });
  });

  await step("? lists the shortcuts; / focuses the command line, which finds a run by name", async () => {
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("?");
    await page.locator("#help").waitFor({ state: "visible" });
    assert.match(await page.locator("#help").innerText(), /command line/i);
    await page.keyboard.press("Escape");
    await page.locator("#help").waitFor({ state: "hidden" });
    await page.keyboard.press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "cmd");
    await page.keyboard.type("gpt-sm");
    await page.keyboard.press("Enter");
    await waitFor(async () => (await page.locator("#p-runs tr.selected").getAttribute("data-run-id")) === gpt.run.id, { what: "gpt selected" });
    await waitFor(async () => (await chartPoints("#p-chart-a .chart-body")) > 0, { what: "gpt chart" });
    await page.keyboard.type("accuracy");
    await page.keyboard.press("Enter");
    await waitFor(async () => (await attr("#p-chart-b .chart-body", "data-key")) === "accuracy", { what: "metric via command line" });
  });

  await step("j/k move through runs; overlay puts two runs on one chart", async () => {
    await page.locator("#cmd").blur();
    await page.keyboard.press("k");
    await waitFor(async () => (await page.locator("#p-runs tr.selected").getAttribute("data-run-id")) === runId, { what: "k moves up" });
    await page.locator("#cmd").fill("overlay gpt");
    await page.locator("#cmd").press("Enter");
    await waitFor(async () => (await page.locator("#p-chart-a .legend .chip").count()) === 2, { what: "two legend entries" });
    await waitFor(async () => (await chartPoints("#p-chart-a .chart-body")) > 400, { what: "overlay points" });
    await page.locator("#cmd").fill("smooth 0.8");
    await page.locator("#cmd").press("Enter");
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(shots, "overlay.png") });
  });

  await step("light theme is applied and remembered across reloads", async () => {
    await page.locator("#cmd").fill("theme light");
    await page.locator("#cmd").press("Enter");
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light");
    await page.reload();
    await page.locator(`[data-run-id="${runId}"]`).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light");
    await waitFor(async () => (await chartPoints("#p-chart-a .chart-body")) > 0, { what: "charts after reload" });
    await page.waitForTimeout(1200);
    await page.screenshot({ path: join(shots, "dashboard-light.png") });
    await page.keyboard.press("t");
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
  });

  await step("layer view: heatmap across layers and steps, scrubber shows a step's per-layer stats", async () => {
    await page.keyboard.press("v");
    await waitFor(async () => Number(await attr("canvas.heat", "data-cells")) > 0, { what: "heatmap cells" });
    await page.locator("[data-layer-step]").waitFor();
    const scrub = page.locator("#scrub");
    await scrub.focus();
    await scrub.press("Home");
    await waitFor(async () => (await attr("[data-layer-step]", "data-layer-step")) === "0", { what: "time travel to step 0" });
    assert.equal(await page.locator("[data-layer-step] tbody tr").count(), 8);
    await scrub.press("ArrowRight");
    await scrub.press("ArrowRight");
    await scrub.press("ArrowRight");
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(shots, "layers.png") });
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("v");
  });

  await step("stop sets the run cancelled over REST", async () => {
    await page.locator("#cmd").fill("gpt-small");
    await page.locator("#cmd").press("Enter");
    await waitFor(async () => (await page.locator("#p-runs tr.selected").getAttribute("data-run-id")) === gpt.run.id, { what: "gpt selected" });
    await page.locator('button[data-act="stop"]').click();
    await waitFor(async () => (await api.get(`/api/runs/${gpt.run.id}`)).status === "cancelled", { what: "cancelled" });
    await waitFor(async () => (await page.locator(`[data-run-id="${gpt.run.id}"] .badge`).innerText()).includes("CANCELLED"), { what: "badge" });
  });

  await step("delete asks to confirm, then removes the run on the server", async () => {
    const doomed = await api.post("/api/runs", { name: "e2e-doomed", total_steps: 10 });
    await page.locator(`[data-run-id="${doomed.id}"]`).click();
    await page.locator('button[data-act="delete"]').click();
    await page.locator("[data-confirm]").waitFor();
    assert.equal((await api.get(`/api/runs/${doomed.id}`)).id, doomed.id, "nothing deleted before confirming");
    await page.locator('button[data-act="confirm-delete"]').click();
    await waitFor(async () => {
      try {
        await api.get(`/api/runs/${doomed.id}`);
        return false;
      } catch (e) {
        return e.status === 404;
      }
    }, { what: "404 after delete" });
    await waitFor(async () => (await page.locator(`[data-run-id="${doomed.id}"]`).count()) === 0, { what: "row gone" });
  });

  await step("the page survives a server restart: disconnected banner, then recovery and resync", async () => {
    await page.locator(`[data-run-id="${runId}"]`).click();
    await waitFor(async () => Number(await attr("#p-chart-a .chart-body", "data-last-step")) === 777, { what: "resnet charted" });
    await server.stop();
    await waitFor(async () => (await page.locator("#banner").isVisible()) && (await attr("#banner", "data-state")) === "disconnected", { what: "disconnected banner" });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(shots, "disconnected.png") });
    // a run-list reload that fails keeps the rows shown and says so in the header
    await page.locator("#f-q").fill("resnet");
    await page.locator("[data-runs-error]").waitFor({ timeout: 5000 });
    assert.ok(await page.locator(`[data-run-id="${runId}"]`).isVisible(), "the rows stay while the reload failed");
    await page.locator("#f-q").fill("");
    server = await startServer({ port, db });
    const again = client(server.url);
    await again.post(`/api/runs/${runId}/metrics`, { step: 900, metrics: { loss: 0.011, lr: 5e-5 } });
    await waitFor(async () => (await attr("#conn", "class")) === "open", { what: "reconnected", timeout: 20000 });
    await waitFor(async () => Number(await attr("#p-chart-a .chart-body", "data-last-step")) === 900, { what: "resynced point", timeout: 10000 });
    await waitFor(async () => (await page.locator("[data-runs-error]").count()) === 0, { what: "run list reloaded after the restart" });
    await again.post(`/api/runs/${runId}/metrics`, { step: 901, metrics: { loss: 0.0105, lr: 5e-5 } });
    await waitFor(async () => Number(await attr("#p-chart-a .chart-body", "data-last-step")) === 901, { what: "live after restart", timeout: 5000 });
  });

  await filterSteps({ step, page, api: client(server.url), shots });
  await hostSteps({ step, page, api: client(server.url), server, shots });
  const staleServer = await staleSteps({ step, page, tmpDir: tmp.dir, shots });
  await staleServer.stop();

  await step("the debug hook window.__tmon exists only with ?debug", async () => {
    await page.goto(server.url + "/");
    await page.locator("#p-runs tbody tr").first().waitFor();
    assert.equal(await page.evaluate(() => typeof (window).__tmon), "undefined");
    await page.goto(server.url + "/?debug");
    await page.locator("#p-runs tbody tr").first().waitFor();
    await waitFor(() => page.evaluate(() => (window).__tmon?.stats?.renders > 0), { what: "__tmon.stats with ?debug" });
    assert.equal(await page.evaluate(() => typeof (window).__tmon.live.newestStep.get), "function");
  });

  await step("the keys in the ? help act: l, x, ] and [, o and c, Esc cancels a delete", async () => {
    await page.locator("#p-runs tbody tr.selected").waitFor();
    const on = (sel) => page.locator(`#toolbar ${sel}`).evaluate((el) => el.classList.contains("on"));
    const xMode = () => page.locator("#toolbar button[data-x].on").innerText();
    const smooth = async () => Number(await page.locator("#toolbar label b").first().innerText());
    const logBefore = await on('button[data-toggle="log"]');
    await page.keyboard.press("l");
    await waitFor(async () => (await on('button[data-toggle="log"]')) !== logBefore, { what: "l toggles LOG Y" });
    await page.keyboard.press("l");
    await waitFor(async () => (await on('button[data-toggle="log"]')) === logBefore, { what: "l toggles LOG Y back" });
    const seen = [await xMode()];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("x");
      await waitFor(async () => (await xMode()) !== seen[seen.length - 1], { what: `x #${i + 1}` });
      seen.push(await xMode());
    }
    assert.deepEqual(seen, ["STEP", "TIME", "REL", "STEP"]);
    const s0 = await smooth();
    await page.keyboard.press("[");
    await waitFor(async () => Math.abs((await smooth()) - Math.max(0, s0 - 0.1)) < 1e-9, { what: "[ lowers smoothing" });
    await page.keyboard.press("]");
    await waitFor(async () => Math.abs((await smooth()) - Math.min(0.99, Math.max(0, s0 - 0.1) + 0.1)) < 1e-9, { what: "] raises smoothing" });
    await page.keyboard.press("o");
    await waitFor(async () => (await page.locator("#toolbar [data-overlay]").count()) === 1, { what: "o overlays a run" });
    await page.keyboard.press("c");
    await waitFor(async () => (await page.locator("#toolbar [data-overlay]").count()) === 0, { what: "c clears overlays" });
    await page.locator('#p-actions button[data-act="delete"]').click();
    await page.locator("[data-confirm]").waitFor();
    await page.keyboard.press("Escape");
    await page.locator("[data-confirm]").waitFor({ state: "detached" });
  });

  await step(updating ? `screenshots rewritten in ${shots}` : "the committed docs/screenshots/*.png are left untouched", async () => {
    if (updating) return;
    assert.deepEqual(pngTimes(), pngsBefore, "npm run e2e rewrote docs/screenshots (only npm run screenshots may)");
  });

  await step("no JavaScript errors on the page", async () => {
    const real = pageErrors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection/.test(e));
    assert.deepEqual(real, []);
  });
} catch (e) {
  if (!results.some(([ok]) => !ok)) console.log(`  FAIL setup: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  await server.stop();
  tmp.remove();
  const failed = results.filter(([ok]) => !ok).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed (screenshots in ${shots})`);
  if (failed) process.exitCode = 1;
}
