// e2e steps for the runs panel's server-side filter and paging, progress past plan, runs reported
// from other hosts (per-run system samples) and stale runs. Called from run.mjs with its page and server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { client, freePort, startServer, waitFor } from "./lib.mjs";

const listed = (page) => page.locator("#p-runs tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.runId));

export async function filterSteps({ step, page, api, shots }) {
  const tagged = [];
  await step("the filter row narrows the run list on the server (status, tag, name) and clears", async () => {
    for (const [name, tags] of [["flt-alpha-1", ["sweep-a"]], ["flt-alpha-2", ["sweep-a", "big"]], ["flt-beta", ["sweep-b"]]]) {
      tagged.push(await api.post("/api/runs", { name, tags, total_steps: 100 }));
    }
    await api.put(`/api/runs/${tagged[2].id}`, { status: "completed" });
    await waitFor(async () => (await listed(page)).includes(tagged[2].id), { what: "new runs listed live" });
    const all = (await listed(page)).length;

    await page.locator("#f-tag").fill("sweep-a");
    await waitFor(async () => JSON.stringify(await listed(page)) === JSON.stringify([tagged[1].id, tagged[0].id]), { what: "tag filter" });
    assert.match(await page.locator("#p-runs .count").innerText(), /^1–2 of 2 /);

    await page.locator("#f-q").fill("ALPHA-2");
    await waitFor(async () => JSON.stringify(await listed(page)) === JSON.stringify([tagged[1].id]), { what: "tag + name filter" });

    await page.locator("#f-q").fill("");
    await page.locator("#f-tag").fill("");
    await page.locator("#f-status").selectOption("completed");
    await waitFor(async () => {
      const ids = await listed(page);
      return ids.includes(tagged[2].id) && !ids.includes(tagged[0].id);
    }, { what: "status filter" });
    for (const id of await listed(page)) assert.match(await page.locator(`[data-run-id="${id}"] .badge`).first().innerText(), /COMPLETED/);

    // a listed run that stops matching (its status changes) leaves the filtered list live
    await page.locator("#f-status").selectOption("running");
    await waitFor(async () => JSON.stringify(await listed(page)).includes(tagged[0].id), { what: "running filter" });
    await api.put(`/api/runs/${tagged[0].id}`, { status: "failed" });
    await waitFor(async () => !(await listed(page)).includes(tagged[0].id), { what: "failed run leaves the running list" });
    await page.locator("#f-status").selectOption("");

    await page.locator("#f-tag").fill("no-such-tag");
    await page.locator("[data-no-match]").waitFor();
    assert.equal((await listed(page)).length, 0);
    await page.locator('[data-no-match] button[data-act="clear-filter"]').click();
    await waitFor(async () => (await listed(page)).length >= all, { what: "cleared filter" });
    assert.equal(await page.locator("#f-status").inputValue(), "");
    assert.equal(await page.locator("#f-tag").inputValue(), "");
  });

  await step("the command line's filter does the same and fills the filter row", async () => {
    await page.locator("#cmd").fill("filter status:running tag:sweep-a alpha");
    await page.locator("#cmd").press("Enter");
    // tagged[0] failed above: only alpha-2 is running
    await waitFor(async () => JSON.stringify(await listed(page)) === JSON.stringify([tagged[1].id]), { what: "command filter" });
    assert.equal(await page.locator("#f-status").inputValue(), "running");
    assert.equal(await page.locator("#f-tag").inputValue(), "sweep-a");
    assert.equal(await page.locator("#f-q").inputValue(), "alpha");
    await page.locator("#cmd").fill("filter status:bogus");
    await page.locator("#cmd").press("Enter");
    assert.match(await page.locator("#cmd-msg").innerText(), /status is one of/);
    await page.locator("#cmd").fill("filter clear");
    await page.locator("#cmd").press("Enter");
    await waitFor(async () => (await listed(page)).length > 2, { what: "filter clear" });
  });

  await step("the runs panel pages through runs on the server (no limit=1000 load)", async () => {
    const seen = [];
    const onReq = (r) => r.url().includes("/api/runs?") && seen.push(new URL(r.url()).searchParams);
    page.on("request", onReq);
    for (let i = 0; i < 105; i++) await api.post("/api/runs", { name: `page-run-${String(i).padStart(3, "0")}`, tags: ["paging"] });
    await page.locator("#cmd").fill("filter tag:paging");
    await page.locator("#cmd").press("Enter");
    await waitFor(async () => (await listed(page)).length === 100, { what: "first page of 100" });
    await waitFor(async () => /^1–100 of 105 /.test(await page.locator("#p-runs .count").innerText()), { what: "1–100 of 105" });
    assert.equal(await page.locator('#p-runs [data-act="page-prev"]').isDisabled(), true);
    await page.locator('#p-runs [data-act="page-next"]').click();
    await waitFor(async () => (await listed(page)).length === 5, { what: "second page" });
    assert.match(await page.locator("#p-runs .count").innerText(), /^101–105 of 105 /);
    const second = await listed(page);
    await page.locator("#cmd").fill("prev");
    await page.locator("#cmd").press("Enter");
    await waitFor(async () => (await listed(page)).length === 100, { what: "back to the first page" });
    const first = await listed(page);
    assert.equal(new Set([...first, ...second]).size, 105, "the two pages hold every run once");
    // j on the last row goes on to the next page, k on its first row comes back
    await page.locator("#p-runs tbody tr").last().click();
    await page.keyboard.press("j");
    await waitFor(async () => /^101–105 of 105 /.test(await page.locator("#p-runs .count").innerText()), { what: "j past the last row: next page" });
    await waitFor(async () => (await page.locator("#p-runs tr.selected").getAttribute("data-run-id")) === (await listed(page))[0], { what: "first row of page 2 selected" });
    await page.keyboard.press("k");
    await waitFor(async () => /^1–100 of 105 /.test(await page.locator("#p-runs .count").innerText()), { what: "k past the first row: previous page" });
    await waitFor(async () => (await page.locator("#p-runs tr.selected").getAttribute("data-run-id")) === (await listed(page))[99], { what: "last row of page 1 selected" });
    // a run on the other page is still found by name from the command line (asked of the server)
    const elsewhere = second[0];
    const name = (await api.get(`/api/runs/${elsewhere}`)).name;
    await page.locator("#cmd").fill(name);
    await page.locator("#cmd").press("Enter");
    await waitFor(async () => (await page.locator("#p-config").innerText()).includes(elsewhere), { what: `run from page 2 selected (${name}; says '${await page.locator("#cmd-msg").innerText()}')` });
    page.off("request", onReq);
    assert.ok(seen.length >= 3, "the list was asked page by page");
    for (const q of seen) assert.ok(Number(q.get("limit")) <= 100, `limit ${q.get("limit")}`);
    assert.ok(seen.some((q) => q.get("offset") === "100" && q.get("tag") === "paging"), "offset 100 with the tag filter");
    await page.locator("#cmd").fill("filter clear");
    await page.locator("#cmd").press("Enter");
    await waitFor(async () => (await page.locator("#f-tag").inputValue()) === "", { what: "cleared" });
  });

  await step("a run past its planned steps shows its step count, never a percentage over 100", async () => {
    const over = await api.post("/api/runs", { name: "past-plan", total_steps: 100 });
    await api.post(`/api/runs/${over.id}/metrics`, { step: 9999, metrics: { loss: 0.5 } });
    const cell = page.locator(`[data-run-id="${over.id}"] td.progress`);
    await waitFor(async () => (await cell.innerText()).includes("9999 steps"), { what: "step count" });
    assert.doesNotMatch(await cell.innerText(), /%/);
    const width = await cell.locator(".bar > i").evaluate((el) => el.style.width);
    assert.equal(parseFloat(width), 100, `bar width ${width}`);
    await page.locator(`[data-run-id="${over.id}"]`).click();
    await waitFor(async () => (await page.locator("#p-config").innerText()).includes("9999 / 100 (past plan)"), { what: "detail step line" });
    if (shots) await page.screenshot({ path: join(shots, "filter.png") });
  });
}

/** Needs the server's per-run system route (POST/GET /api/runs/{id}/system and WS `system`). */
export async function hostSteps({ step, page, api, server, shots }) {
  await step("a run with per-run system samples from two hosts shows one row per host, live; others fall back to the server's host", async () => {
    const run = await api.post("/api/runs", { name: "two-hosts", total_steps: 1000 });
    const now = Date.now() / 1000;
    const gpu = (index, util) => ({ index, name: "H100", utilization: util, memory_used: 40e9, memory_total: 80e9 });
    const sample = (host, rank, t, gpus) => ({ host, rank, timestamp: t, cpu_percent: 40 + rank, memory_percent: 30, memory_used: 3e9, memory_total: 10e9, process_rss: 1e9, gpus });
    const samples = [];
    for (let i = 10; i > 0; i--) samples.push(sample("node-a", 0, now - i, [gpu(0, 90), gpu(1, 80)]), sample("node-b", 1, now - i, [gpu(0, 70)]));
    await api.post(`/api/runs/${run.id}/system`, { samples });
    await api.post(`/api/runs/${run.id}/metrics`, { step: 1, metrics: { loss: 1 } });
    await page.locator(`[data-run-id="${run.id}"]`).click();
    const rows = page.locator("#p-system [data-host-row]");
    await waitFor(async () => (await rows.count()) === 2, { what: "two host rows" });
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.dataset.hostRow)), ["node-a r0", "node-b r1"]);
    assert.equal(await page.locator('#p-system [data-host-row="node-a r0"] .sysbox').count(), 3, "CPU/MEM + 2 GPUs");
    assert.equal(await page.locator('#p-system [data-host-row="node-b r1"] .sysbox').count(), 2, "CPU/MEM + 1 GPU");
    assert.equal(await page.locator("#p-system .sys-src").getAttribute("data-src"), "run");
    // a third host reports live (WS `system`): a third row without a reload
    const rank2 = client(server.url, null, { "X-Tmon-Host": "node-c", "X-Tmon-Rank": "2" });
    await rank2.post(`/api/runs/${run.id}/system`, { timestamp: now, cpu_percent: 12, memory_percent: 20 });
    await waitFor(async () => (await rows.count()) === 3, { what: "third host row, live" });
    assert.equal(await rows.nth(2).getAttribute("data-host-row"), "node-c r2");
    // a run nobody posted samples for: the server's own host, as before
    const plain = await api.post("/api/runs", { name: "server-host-only" });
    await page.locator(`[data-run-id="${plain.id}"]`).click();
    await waitFor(async () => (await page.locator("#p-system [data-sys=cpu]").count()) === 1 && (await rows.count()) === 0, { what: "fallback to the server's host" });
    assert.equal(await page.locator("#p-system .sys-src").getAttribute("data-src"), "server");
    await page.locator(`[data-run-id="${run.id}"]`).click();
    await waitFor(async () => (await rows.count()) === 3, { what: "host rows again" });
    // the run's detail lists its hosts
    await waitFor(async () => (await page.locator("#p-config [data-hosts]").innerText()) === "3", { what: "hosts in detail" });
    assert.match(await page.locator("#p-config").innerText(), /node-a r0, node-b r1, node-c r2/);
    if (shots) await page.screenshot({ path: join(shots, "hosts.png") });
  });
}

/** Starts its own server with --stale-after 1 and points the page at it; returns that server (stop it). */
export async function staleSteps({ step, page, tmpDir, shots }) {
  const port = await freePort();
  const server = await startServer({ port, db: join(tmpDir, "stale.db"), extraArgs: ["--stale-after", "1"] });
  const trainer = client(server.url, null, { "X-Tmon-Host": "node-a", "X-Tmon-Rank": "0" });
  try {
    await step("a silent trainer's run turns STALE live; its ETA and cost freeze; a heartbeat clears it", async () => {
      // the page is open before the run exists: RUNNING, then STALE arrive over the WebSocket
      await page.goto(server.url + "/");
      await page.locator("#conn.open").waitFor();
      const marker = await page.evaluate(() => ((window).__staleMarker = Math.random()));
      const run = await trainer.post("/api/runs", { name: "goes-quiet", total_steps: 100000 });
      const t0 = Date.now() / 1000;
      await trainer.post(`/api/runs/${run.id}/metrics`, { points: [1, 2, 3, 4, 5].map((s) => ({ step: s * 10, timestamp: t0, metrics: { loss: 1 / s } })) });
      const row = page.locator(`[data-run-id="${run.id}"]`);
      await row.waitFor();
      const badge = row.locator("[data-stale]");
      await waitFor(async () => (await badge.count()) === 1, { what: "STALE badge in the runs table", timeout: 15000 });
      assert.equal(await page.evaluate(() => (window).__staleMarker), marker, "no reload");
      assert.match(await badge.innerText(), /STALE/);
      assert.match(await row.locator(".badge").first().innerText(), /RUNNING/, "still running: the user decides");
      await waitFor(async () => (await page.locator("#p-config [data-stale]").count()) === 1, { what: "STALE in the run header" });
      // frozen: the ETA and cost text do not change while time passes
      const cells = async () => (await row.locator("td.num").allInnerTexts()).slice(1).join("|");
      const before = await cells();
      const eta = await page.locator("#p-config").innerText();
      await page.waitForTimeout(2200);
      assert.equal(await cells(), before, "ETA and cost frozen");
      assert.equal((await page.locator("#p-config").innerText()).match(/eta\s+(.*)/)[1], eta.match(/eta\s+(.*)/)[1]);
      if (shots) await page.screenshot({ path: join(shots, "stale.png") });
      // the next trainer write clears it, live
      await trainer.post(`/api/runs/${run.id}/heartbeat`, {});
      await waitFor(async () => (await badge.count()) === 0, { what: "STALE cleared", timeout: 5000 });
    });
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}
