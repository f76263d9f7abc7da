// Dashboard performance against the real tmon-server:
//   1. a run of N steps x 4 keys (default 1,000,000): navigation -> both charts drawn
//   2. R runs streaming at 10 updates/s for S seconds: does the page keep up, frame times
//   3. bytes transferred for the dashboard itself (gzip)
// usage: npm run bench -- [--steps 1000000] [--runs 20] [--seconds 20] [--loads 5]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { client, freePort, launchBrowser, repoDir, startServer, tempDir } from "../e2e/lib.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STEPS = arg("steps", 1_000_000);
const RUNS = arg("runs", 20);
const SECONDS = arg("seconds", 20);
const LOADS = arg("loads", 5);
const KEYS = ["loss", "lr", "accuracy", "grad_norm"];

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mean = (a) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];
const rows = [];
const row = (what, value, target, ok) => rows.push([what, value, target, ok == null ? "" : ok ? "yes" : "NO"]);

const tmp = tempDir("tmon-bench-");
const port = await freePort();
const server = await startServer({ port, db: join(tmp.dir, "bench.db") });
const api = client(server.url);
const browser = await launchBrowser({ width: 1600, height: 1000 });
const { page } = browser;

try {
  // ---- 1. a huge run --------------------------------------------------------------------------
  const big = await api.post("/api/runs", { name: `bench-${STEPS}-steps`, total_steps: STEPS, config: { bench: true } });
  const t0 = Date.now();
  const BATCH = 5000;
  const inflight = [];
  for (let s = 0; s < STEPS; s += BATCH) {
    const points = [];
    for (let i = s; i < Math.min(STEPS, s + BATCH); i++)
      points.push({ step: i, timestamp: 1.7e9 + i * 0.01, metrics: { loss: 3 * Math.exp(-i / 2e5) + 0.05 * Math.sin(i / 50) + (i % 99991 === 0 ? 5 : 0), lr: 3e-4 * Math.cos(i / STEPS), accuracy: 1 - Math.exp(-i / 3e5), grad_norm: 1 + Math.abs(Math.sin(i / 1000)) } });
    inflight.push(api.post(`/api/runs/${big.id}/metrics`, { points }));
    if (inflight.length >= 4) await inflight.shift();
  }
  await Promise.all(inflight);
  const ingestS = (Date.now() - t0) / 1000;
  row(`ingest ${STEPS.toLocaleString("en-US")} steps x 4 keys over REST (batches of ${BATCH})`, `${ingestS.toFixed(1)} s (${Math.round((STEPS * 4) / ingestS).toLocaleString("en-US")} values/s)`, "", null);

  const loadTimes = [];
  const apiTimes = [];
  for (let k = 0; k < LOADS; k++) {
    await page.goto(server.url + "/?debug", { waitUntil: "commit" });
    const drawn = await page.waitForFunction(
      () => {
        const a = document.querySelector("#p-chart-a .chart-body");
        const b = document.querySelector("#p-chart-b .chart-body");
        return a && b && Number(a.dataset.points) > 0 && Number(b.dataset.points) > 0 && a.querySelector("canvas") && b.querySelector("canvas") ? performance.now() : false;
      },
      null,
      { polling: "raf", timeout: 30000 },
    );
    loadTimes.push(await drawn.jsonValue());
    apiTimes.push(
      await page.evaluate(() =>
        Math.max(0, ...performance.getEntriesByType("resource").filter((e) => e.name.includes("/metrics?")).map((e) => e.responseEnd - e.startTime)),
      ),
    );
  }
  const points = await page.locator("#p-chart-a .chart-body").getAttribute("data-points");
  const lt = median(loadTimes);
  row(`navigation -> both charts drawn, ${STEPS.toLocaleString("en-US")}-step run (median of ${LOADS}, first ${loadTimes[0].toFixed(0)} ms)`, `${lt.toFixed(0)} ms`, "<= 500 ms", lt <= 500);
  row(`  of which the slowest metrics request (median)`, `${median(apiTimes).toFixed(0)} ms`, "", null);
  row(`  points held by the loss chart (server-downsampled to its width)`, points, "", null);

  // ---- 3. transferred size (measured on the last load) ------------------------------------------
  const transfer = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const res = performance.getEntriesByType("resource").filter((e) => /\/assets\//.test(e.name));
    return { total: nav.transferSize + res.reduce((s, e) => s + e.transferSize, 0), body: nav.encodedBodySize + res.reduce((s, e) => s + e.encodedBodySize, 0), files: res.length + 1 };
  });
  // The reload above may have been served from cache (304s); fetch once more, cold.
  const cold = tempDir("tmon-bench-cold-");
  const fresh = await launchBrowser();
  await fresh.page.goto(server.url + "/", { waitUntil: "load" });
  const coldTransfer = await fresh.page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const res = performance.getEntriesByType("resource").filter((e) => /\/assets\//.test(e.name));
    return { total: nav.transferSize + res.reduce((s, e) => s + e.transferSize, 0), body: nav.encodedBodySize + res.reduce((s, e) => s + e.encodedBodySize, 0), files: res.length + 1 };
  });
  await fresh.close();
  cold.remove();
  row(`dashboard transferred, cold cache (${coldTransfer.files} files, gzip, headers included)`, `${(coldTransfer.total / 1024).toFixed(1)} KB (bodies ${(coldTransfer.body / 1024).toFixed(1)} KB)`, "<= 150 KB", coldTransfer.total <= 150 * 1024);
  const header = readFileSync(join(repoDir, "include/tmon/dashboard/assets.hpp"), "utf8");
  const sizes = [...header.matchAll(/, (\d+)\}, (\d+)\},/g)].map((m) => [Number(m[1]), Number(m[2])]);
  const gz = sizes.reduce((a, [g]) => a + g, 0);
  row(`embedded assets in assets.hpp (${sizes.length} files): gzip / raw`, `${(gz / 1024).toFixed(1)} KB / ${(sizes.reduce((a, [, r]) => a + r, 0) / 1024).toFixed(1)} KB`, "<= 150 KB", gz <= 150 * 1024);
  if (process.env.E2E_STATIC_DIR) row(`  (E2E_STATIC_DIR set: the server sent files from disk, uncompressed)`, "", "", null);
  row(`dashboard transferred on reload (ETag revalidation)`, `${(transfer.total / 1024).toFixed(1)} KB`, "", null);

  // ---- 2. many runs streaming ----------------------------------------------------------------------
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(await api.post("/api/runs", { name: `stream-${String(r).padStart(2, "0")}`, total_steps: SECONDS * 10 * 2 }));
  await page.goto(server.url + "/?debug"); // ?debug: the page exposes window.__tmon (stats, live store)
  await page.locator(`[data-run-id="${runs[RUNS - 1].id}"]`).waitFor();
  // Selected run + 3 overlays all charted, so live points reach uPlot, not just the run list.
  for (const r of runs.slice(RUNS - 4, RUNS - 1)) {
    await page.locator("#cmd").fill(`overlay ${r.name}`);
    await page.locator("#cmd").press("Enter");
  }
  await page.evaluate(() => {
    const w = window;
    w.__bench = { frames: [], work: [], last: performance.now(), renders: -1, t0: performance.now(), work0: w.__tmon.stats.workMs };
    const loop = (t) => {
      w.__bench.frames.push(t - w.__bench.last);
      w.__bench.last = t;
      const st = w.__tmon.stats;
      if (st.renders !== w.__bench.renders) w.__bench.work.push(st.lastRenderMs);
      w.__bench.renders = st.renders;
      w.__benchRaf = requestAnimationFrame(loop);
    };
    w.__benchRaf = requestAnimationFrame(loop);
    w.__bench.long = [];
    try {
      new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__bench.long.push(e.duration))).observe({ type: "longtask" });
    } catch {}
  });
  const sent = new Map(runs.map((r) => [r.id, -1]));
  let posts = 0;
  let errors = 0;
  const lagSamples = [];
  const started = Date.now();
  const timers = runs.map((r, i) =>
    setTimeout(() => {
      let step = 0;
      const tick = () => {
        const s = step++;
        api
          .post(`/api/runs/${r.id}/metrics`, { step: s, metrics: { loss: 2 * Math.exp(-s / 100) + Math.random() * 0.05, lr: 1e-3, accuracy: s / 400, grad_norm: Math.random() } })
          .then(() => {
            posts++;
            if (s > sent.get(r.id)) sent.set(r.id, s);
          })
          .catch(() => errors++);
      };
      timers[i] = setInterval(tick, 100);
    }, (i * 100) / RUNS),
  );
  while (Date.now() - started < SECONDS * 1000) {
    await new Promise((res) => setTimeout(res, 1000));
    const seen = await page.evaluate(() => Object.fromEntries(window.__tmon.live.newestStep));
    const lags = runs.map((r) => Math.max(0, sent.get(r.id) - (seen[r.id] ?? -1)));
    lagSamples.push({ t: (Date.now() - started) / 1000, max: Math.max(...lags), mean: mean(lags) });
  }
  timers.forEach((t) => clearInterval(t));
  await new Promise((res) => setTimeout(res, 1500));
  const stats = await page.evaluate(() => {
    cancelAnimationFrame(window.__benchRaf);
    window.__bench.busy = (window.__tmon.stats.workMs - window.__bench.work0) / (performance.now() - window.__bench.t0);
    return { ...window.__bench, tmon: { ...window.__tmon.stats }, newest: Object.fromEntries(window.__tmon.live.newestStep), chartLast: document.querySelector("#p-chart-a .chart-body").dataset.lastStep };
  });
  const finalLag = Math.max(...runs.map((r) => sent.get(r.id) - (stats.newest[r.id] ?? -1)));
  const frames = stats.frames.slice(5);
  const work = stats.work.filter((x) => x > 0);
  const firstHalf = lagSamples.slice(0, Math.floor(lagSamples.length / 2)).map((s) => s.max);
  const secondHalf = lagSamples.slice(Math.floor(lagSamples.length / 2)).map((s) => s.max);
  row(`streaming: ${RUNS} runs x 10 updates/s x ${SECONDS} s, REST posts acknowledged`, `${posts} (${errors} errors), ${stats.tmon.metricUpdates} metric_update msgs received`, "", null);
  row(`  lag behind the newest posted step, max over runs (1st half / 2nd half mean)`, `${mean(firstHalf).toFixed(1)} / ${mean(secondHalf).toFixed(1)} steps`, "not growing", mean(secondHalf) <= mean(firstHalf) + 2);
  row(`  lag after the streams stop`, `${finalLag} steps`, "0", finalLag === 0);
  row(`  mean frame interval (rAF), p95`, `${mean(frames).toFixed(1)} ms, p95 ${pct(frames, 0.95).toFixed(1)} ms`, "<= 16.7 ms (60 Hz)", mean(frames) <= 17.5);
  row(`  mean dashboard work per rendered frame, p95`, `${mean(work).toFixed(2)} ms, p95 ${pct(work, 0.95).toFixed(2)} ms`, "<= 16 ms", mean(work) <= 16);
  row(`  share of wall time the dashboard spends rendering`, `${(stats.busy * 100).toFixed(1)}%`, "", null);
  row(`  long tasks (> 50 ms)`, `${stats.long.length}`, "", null);
  row(`  gap refetches (server dropped backlog)`, `${stats.tmon.refetches}`, "", null);
} finally {
  await browser.close();
  await server.stop();
  tmp.remove();
}

const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => String(r[1]).length));
console.log(`\n${"measure".padEnd(w0)}  ${"result".padEnd(w1)}  target       ok`);
for (const [a, b, c, d] of rows) console.log(`${a.padEnd(w0)}  ${String(b).padEnd(w1)}  ${c.padEnd(12)} ${d}`);
