import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobAttempt } from '../attempts.js';
import { DirectoryAttemptRecorder, drainAttempts } from './attempts.js';

const roots: string[] = [];
afterAll(async () => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))));

const attempt = (n: number): JobAttempt => ({
  version: 1, id: `e${n}:video#1`, jobId: `e${n}:video`, uploadId: `u${n}`, kind: 'video', mediaType: null, size: 1,
  queuedAt: '2030-01-01T00:00:00.000Z', startedAt: null, endedAt: '2030-01-01T00:00:01.000Z',
  attempt: 1, outcome: 'skipped', errorCode: null, model: null, promptTokens: 0, completionTokens: 0, metrics: {}, node: 'w',
});

describe('attempt files of a worker on the directory queue', () => {
  it('one file per attempt id; drained in batches, malformed files dropped, a failed write keeps them', async () => {
    const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'attempt-files-')), 'analytics', 'attempts');
    roots.push(path.dirname(path.dirname(dir)));
    const recorder = new DirectoryAttemptRecorder(dir);
    for (const n of [1, 2, 3, 2]) await recorder.record(attempt(n));
    await fs.writeFile(path.join(dir, 'broken.json'), '{"version":1');
    await expect(drainAttempts(dir, async () => Promise.reject(new Error('database down')))).rejects.toThrow(/database down/);
    expect((await fs.readdir(dir)).length).toBe(3); // kept for the next drain (the malformed one is gone)
    const written: JobAttempt[] = [];
    expect(await drainAttempts(dir, async (b) => void written.push(...b), 2)).toEqual({ written: 2, dropped: 0 });
    expect(await drainAttempts(dir, async (b) => void written.push(...b), 2)).toEqual({ written: 1, dropped: 0 });
    expect(written.map((a) => a.id).sort()).toEqual(['e1:video#1', 'e2:video#1', 'e3:video#1']);
    expect(await fs.readdir(dir)).toEqual([]);
    expect(await drainAttempts(path.join(dir, 'missing'), async () => undefined)).toEqual({ written: 0, dropped: 0 });
  });
});
