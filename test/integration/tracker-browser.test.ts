/**
 * The web tracker (clients/web) in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against `shoplake serve` as a user runs it (a child process, with
 * `--cors-origin`): the demo page, served from another origin by a static server in this test,
 * sends events with the built IIFE bundle. Then the ETL runs on the same state directory and the
 * lake is checked: every event accepted once (a batch the page retried is not counted twice),
 * the page-hide beacon delivered, and the anonymous events stitched to the user who logged in.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTracker, IIFE_FILE, TRACKER_DIR } from '../../clients/web/build.ts';
import { closeServer, listen } from '../../local/runtime/listen.ts';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: run scripts/setup-browser.sh (apt-get install chromium) first`);
}
const BIN = fileURLToPath(new URL('../../bin/shoplake.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'shoplake-tracker-'));
const stateDir = join(work, 'state');

let serve: ChildProcess | undefined;
let api = '';
let site: Server | undefined;
let origin = '';
let browser: Browser | undefined;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, '--state-dir', stateDir, ...args],
      { timeout: 240_000 },
      (e, stdout, stderr) =>
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function query<T>(sql: string): Promise<T[]> {
  const r = await cli(['query', '--json', sql]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { rows: T[] }).rows;
}

async function stopServe(): Promise<void> {
  const child = serve;
  serve = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

beforeAll(async () => {
  await buildTracker();
  // The shop's site: the demo page and the bundle, on its own origin.
  site = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const file =
      path === '/demo/index.html'
        ? join(TRACKER_DIR, 'demo', 'index.html')
        : path === '/dist/shoplake.min.js'
          ? IIFE_FILE
          : '';
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'text/javascript' });
    res.end(readFileSync(file));
  });
  origin = `http://127.0.0.1:${(await listen(site, 0, '127.0.0.1')).port}`;

  serve = spawn(
    process.execPath,
    [BIN, '--state-dir', stateDir, 'serve', '--port', '0', '--quiet', '--cors-origin', origin],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  api = await new Promise<string>((resolve, reject) => {
    serve?.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /local API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m?.[1]) resolve(m[1]);
    });
    serve?.once('exit', (code) => reject(new Error(`shoplake serve exited ${code}: ${stderr}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopServe();
  if (site) await closeServer(site);
  rmSync(work, { recursive: true, force: true });
});

describe('web tracker in Chromium against shoplake serve', () => {
  it('delivers events (retried batch, page-hide beacon) that land once each and stitch the session', async () => {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage();
    const posts: { status: number; ids: string[]; results: { event_id: string; status: string }[] }[] = [];
    let failFirst = true;
    // The first batch reaches the API, but the page is told 503: it must resend the same events.
    await page.route(`${api}/events`, async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      const response = await route.fetch();
      const body = (await response.json()) as { results: { event_id: string; status: string }[] };
      const ids = (
        (JSON.parse(route.request().postData() ?? '{}') as { events: { event_id: string }[] }).events ?? []
      ).map((e) => e.event_id);
      if (failFirst) {
        failFirst = false;
        posts.push({ status: 503, ids, results: body.results });
        return route.fulfill({ status: 503, headers: { 'access-control-allow-origin': origin }, body: '{}' });
      }
      posts.push({ status: response.status(), ids, results: body.results });
      return route.fulfill({ response });
    });

    await page.goto(
      `${origin}/demo/index.html?utm_source=newsletter&utm_campaign=bf&interval=120000&endpoint=${encodeURIComponent(`${api}/events`)}`,
    );
    await page.click('#view');
    await page.evaluate(() =>
      (globalThis as unknown as { shoplake: { flush(): Promise<void> } }).shoplake.flush(),
    );
    // The 503 and its retry with backoff (1 s base).
    await expect.poll(() => posts.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect(posts[1]?.ids).toEqual(posts[0]?.ids);
    expect(posts[1]?.status).toBe(200);

    const sessionId = await page.evaluate(() => {
      const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string | null } })
        .localStorage;
      const s = JSON.parse(storage.getItem('shoplake.session') ?? '{}') as { id: string };
      return s.id;
    });
    await page.click('#login');
    await page.click('#cart');
    await page.click('#buy');
    // Page hide: navigating away hands the queued events to sendBeacon.
    await page.goto('about:blank');
    // Delivered by the beacon (the flush interval is 2 minutes): no fetch carried these events.
    await page.close({ runBeforeUnload: true });
    await new Promise((r) => setTimeout(r, 2_000));
    const fetched = new Set(posts.flatMap((p) => p.ids));

    // Stop the API (its Firehose flushes to the landing zone), run the ETL, read the lake.
    await new Promise((r) => setTimeout(r, 2_000));
    await stopServe();
    const etl = await cli(['etl', '--quiet']);
    expect(etl.code, etl.stderr).toBe(0);

    const events = await query<{
      event_id: string;
      event_type: string;
      user_id: string | null;
      session_id: string;
      utm_source: string | null;
    }>(
      'SELECT event_id, event_type, user_id, session_id, utm_source FROM silver.events ORDER BY event_time, event_id',
    );
    // The retried batch (sent twice, accepted twice by the API) is in the lake once.
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    for (const id of posts[0]?.ids ?? []) expect(events.filter((e) => e.event_id === id)).toHaveLength(1);
    // The page-hide events arrived without any fetch: by sendBeacon.
    const hidden = events.filter((e) => e.event_type === 'add_to_cart' || e.event_type === 'purchase');
    expect(hidden).toHaveLength(2);
    for (const e of hidden) expect(fetched.has(e.event_id)).toBe(false);
    expect(events).toHaveLength(4); // page_view, product_view (in the batch sent twice), add_to_cart, purchase
    expect(new Set(events.map((e) => e.session_id))).toEqual(new Set([sessionId]));
    expect(
      events
        .filter((e) => e.user_id === 'demo-user-1')
        .map((e) => e.event_type)
        .sort(),
    ).toEqual(['add_to_cart', 'purchase']);
    expect(events.every((e) => e.utm_source === 'newsletter')).toBe(true);

    const sessions = await query<{
      session_id: string;
      user_id: string;
      is_stitched: boolean;
      event_count: number;
    }>('SELECT session_id, user_id, is_stitched, event_count FROM silver.sessions');
    expect(sessions).toEqual([
      { session_id: sessionId, user_id: 'demo-user-1', is_stitched: true, event_count: 4 },
    ]);
  });
});
