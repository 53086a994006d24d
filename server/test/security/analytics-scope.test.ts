/**
 * Whose history the analytics API shows: a user their own uploads' jobs (the owner filled in from the
 * upload's record when an attempt is written), the operator everyone's or one owner's; owner filters
 * and the daily reports are the operator's. The rollup task writes reports the operator reads back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, TUS, userToken } from '@tus-edge/testkit';
import type { JobAttempt } from '@tus-edge/processors';
import { HistoryWriter } from '../../src/analytics/recorder.js';
import { analyticsRollupTask, REPORTS_ID } from '../../src/analytics/rollup-task.js';
import { startTestServer, type TestServer } from '../harness.js';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdefghijkl';

let server: TestServer;
/** Added to the server's clock (the expiry test moves it past an unfinished upload's expiry). */
let shiftMs = 0;
let alice: Record<string, string>;
let bob: Record<string, string>;
const operator = bearer(OPERATOR_TOKEN);

function attempt(uploadId: string, n: number, endedAt: Date, kind = 'documents'): JobAttempt {
  return {
    version: 1, id: `e${n}:${kind}#1`, jobId: `e${n}:${kind}`, uploadId, kind, mediaType: 'application/pdf', size: 3,
    queuedAt: new Date(endedAt.getTime() - 300).toISOString(), startedAt: new Date(endedAt.getTime() - 200).toISOString(), endedAt: endedAt.toISOString(),
    attempt: 1, outcome: 'done', errorCode: null, model: null, promptTokens: 0, completionTokens: 0, metrics: { pages: 1 }, node: 'w',
  };
}

async function upload(headers: Record<string, string>): Promise<string> {
  const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '3', 'Content-Type': 'application/offset+octet-stream', ...headers }, body: 'abc' });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

const get = async (p: string, headers: Record<string, string>) => {
  const res = await fetch(`${server.url}${p}`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};
const json = async (p: string, headers: Record<string, string>) => JSON.parse((await get(p, headers)).text);

beforeAll(async () => {
  const slot = `maintenance.${Math.floor(Date.now() / 3_600_000)}`;
  server = await startTestServer({ ...AUTH_ENV, OPERATOR_TOKEN, PROCESSORS_IN_PROCESS: 'false', MAINTENANCE_INTERVAL: '1h' }, { now: () => new Date(Date.now() + shiftMs) });
  // The node's maintenance job (with the rollup) runs its first slot at start: let it finish first.
  const deadline = Date.now() + 20_000;
  while ((await server.deps.status.get(slot))?.jobs.maintenance?.state !== 'done' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  alice = bearer(await userToken('alice'));
  bob = bearer(await userToken('bob'));
  const [a, b] = [await upload(alice), await upload(bob)];
  // What the runtime would hand over: the writer finds each upload's owner.
  const writer = new HistoryWriter({ history: server.deps.history, records: server.deps.records, catalogue: server.deps.catalogue });
  const now = Date.now();
  await writer.write([attempt(a, 1, new Date(now - 1000)), attempt(a, 2, new Date(now - 900), 'video'), attempt(b, 3, new Date(now - 800))]);
  await writer.record(attempt('gone-upload', 4, new Date(now - 700)));
});
afterAll(() => server?.close());

describe('analytics scope', () => {
  it('a user sees their own jobs, the operator everyone’s or one owner’s', async () => {
    const keys = (r: any) => r.groups.map((g: any) => `${g.key}:${g.jobs}`).sort();
    expect(keys(await json('/api/analytics/processing', alice))).toEqual(['documents:1', 'video:1']);
    expect(keys(await json('/api/analytics/processing', bob))).toEqual(['documents:1']);
    expect(keys(await json('/api/analytics/processing', operator))).toEqual(['documents:3', 'video:1']);
    expect(keys(await json('/api/analytics/processing?owner=alice', operator))).toEqual(['documents:1', 'video:1']);
    expect(keys(await json('/api/analytics/processing?owner=', operator))).toEqual(['documents:3', 'video:1']);
    expect((await get('/api/analytics/processing?owner=bob', alice)).status).toBe(403);
    expect((await get('/api/analytics/processing', {})).status).toBe(401);
  });

  it('usage per day for a user; per owner for the operator', async () => {
    const mine = await json('/api/analytics/usage', alice);
    expect(mine.owners).toBeUndefined();
    const all = await json('/api/analytics/usage', operator);
    expect(all.owners.map((o: any) => o.owner).sort()).toEqual(['alice', 'bob']);
  });

  it('the rollup task writes the reports of finished days; the operator reads them, users cannot', async () => {
    const now = new Date();
    const yesterday = new Date(now.getTime() - 86_400_000);
    await server.deps.history.recordAttempts([{ ...attempt('x', 9, yesterday), tenant: '', owner: 'alice' }]);
    const task = analyticsRollupTask({ history: server.deps.history, results: server.deps.results, rawRetentionMs: server.deps.config.analytics.rawRetentionMs, logger: server.deps.logger });
    const day = yesterday.toISOString().slice(0, 10);
    expect(await task.run(now)).toEqual({ foldedAttempts: 0, foldedUsageEvents: 0, foldedDays: [], reports: [day] });
    expect((await task.run(now)).reports).toEqual([]); // written once
    expect((await server.deps.results.list(REPORTS_ID)).map((f) => f.name)).toEqual([`${day}.csv`, `${day}.json`]);
    const list = await json('/api/analytics/reports', operator);
    expect(list.reports.map((r: any) => r.name)).toEqual([`${day}.csv`, `${day}.json`]);
    const report = await json(`/api/analytics/reports/${day}.json`, operator);
    expect(report).toMatchObject({ day, kinds: [{ kind: 'documents', attempts: 1, done: 1, metrics: { pages: 1 } }] });
    const csv = await get(`/api/analytics/reports/${day}.csv`, operator);
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.text.split('\n')[1]).toMatch(new RegExp(`^${day},documents,1,1,0,0,200,200,200,100,100,100,0,0$`));
    expect((await get(`/api/analytics/reports/${day}.json`, alice)).status).toBe(403);
    expect((await get('/api/analytics/reports/1999-01-01.json', operator)).status).toBe(404);
  });

  it('an unfinished upload that expires counts as abandoned for its owner', async () => {
    const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '10', 'Content-Type': 'application/offset+octet-stream', ...alice }, body: 'abc' });
    expect(res.status).toBe(201);
    shiftMs = 25 * 3_600_000; // past UPLOAD_EXPIRY (24h) after its last write
    expect(await server.uploads.sweepExpired()).toBe(1);
    const range = `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 3 * 86_400_000).toISOString()}`;
    const total = (u: any) => u.days.reduce((n: number, d: any) => n + d.abandoned, 0);
    expect(total(await json(`/api/analytics/usage?${range}`, alice))).toBe(1);
    expect(total(await json(`/api/analytics/usage?${range}`, bob))).toBe(0);
    const owners = (await json(`/api/analytics/usage?${range}`, operator)).owners;
    expect(owners.find((o: any) => o.owner === 'alice')).toMatchObject({ uploads: 1, bytes: 3, abandoned: 1 });
  });
});
