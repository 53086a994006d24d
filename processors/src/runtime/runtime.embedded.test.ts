/**
 * The runtime in embedded mode: jobs from the directory outbox `DATA_DIR/events`, status files under
 * `DATA_DIR/processing` — what the server runs in-process when no NATS_URL / REDIS_URL is set.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import type { RawEnv } from '../config/config.js';
import type { DeadLetterRecord } from '../pipeline/job-source.js';
import { FileStatusStore } from '../status/file.js';
import type { ProcessingStatus } from '../status/types.js';
import { spawnChildWorker, type ChildWorker } from '@tus-edge/testkit';
import { makeEvent, waitFor, writeOutboxEvent } from '@tus-edge/testkit';
import { readRunLog, ScriptedProcessor, wait } from '@tus-edge/testkit';
import { tempDir } from '@tus-edge/testkit';
import { startRuntime, type Runtime } from './runtime.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(extra: RawEnv = {}) {
  const dataDir = await tempDir();
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const env: RawEnv = {
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PROCESSORS_PORT: '0',
    LOG_LEVEL: 'silent',
    PROCESSOR_ACK_WAIT: '1s',
    PROCESSOR_MAX_DELIVER: '3',
    PROCESSOR_BACKOFF_BASE: '100ms',
    PROCESSOR_BACKOFF_MAX: '1s',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...extra,
  };
  const eventsDir = path.join(dataDir, 'events');
  const status = new FileStatusStore(path.join(dataDir, 'processing'));
  let child: ChildWorker | null = null;
  cleanups.push(() => child?.kill() ?? Promise.resolve());
  return {
    dataDir,
    env,
    eventsDir,
    status,
    publish: (e: ReturnType<typeof makeEvent>) => writeOutboxEvent(eventsDir, e),
    start: async (processor?: ScriptedProcessor, overrides: RawEnv = {}): Promise<Runtime> => {
      const runtime = await startRuntime({ config: parseConfig({ ...env, ...overrides }), processors: processor ? [processor] : undefined, http: false });
      cleanups.push(() => runtime.stop());
      return runtime;
    },
    spawnChild: async (log: string, jobMs: number, overrides: RawEnv = {}) => {
      child = await spawnChildWorker({ ...(env as Record<string, string>), ...(overrides as Record<string, string>), CHILD_KIND: 'work', CHILD_LOG: log, CHILD_JOB_MS: String(jobMs) });
      return child;
    },
    waitStatus: (uploadId: string, predicate: (s: ProcessingStatus) => boolean, timeoutMs = 15_000) =>
      waitFor(async () => {
        const s = await status.get(uploadId);
        return s && predicate(s) ? s : null;
      }, timeoutMs, `status of ${uploadId}`),
    deadLetters: async (): Promise<DeadLetterRecord[]> => {
      const dir = path.join(eventsDir, 'dead');
      const names = (await fs.readdir(dir).catch(() => [])).filter((n) => n.endsWith('.json'));
      return Promise.all(names.map(async (n) => JSON.parse(await fs.readFile(path.join(dir, n), 'utf8')) as DeadLetterRecord));
    },
  };
}

const quick = (ms = 0) => async (_e: unknown, ctx: { signal: AbortSignal }) => {
  if (ms) await wait(ms, ctx.signal);
  return { result: {} };
};

describe('processor runtime, embedded (directory outbox + file status)', () => {
  it('fingerprints an upload from the outbox; status and subscription in-process', async () => {
    const t = await setup();
    const runtime = await t.start(undefined, { PROCESSOR_KINDS: 'fingerprint' });
    expect(runtime.mode).toBe('embedded');
    const data = Buffer.from('just some words\n'.repeat(1000));
    const file = path.join(t.dataDir, 'notes');
    await fs.writeFile(file, data);
    const event = makeEvent({ size: data.length, filePath: file });
    const seen: string[] = [];
    await runtime.status.subscribe(event.uploadId, (s) => seen.push(s.state));
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'done');
    expect(s.jobs.fingerprint.result).toMatchObject({ sha256: createHash('sha256').update(data).digest('hex'), mime: 'text/plain', size: data.length });
    expect(seen).toEqual(['queued', 'processing', 'done']);
    expect(await fs.readdir(path.join(t.eventsDir, 'pending'))).toEqual([]);
    expect(await fs.readdir(path.join(t.eventsDir, 'done'))).toEqual([`${event.eventId}~fingerprint`]);
  });

  it('pending jobs survive a restart, and a job whose worker was killed is finished after it', async () => {
    const t = await setup({ PROCESSOR_CONCURRENCY: '1' });
    const events = [makeEvent(), makeEvent(), makeEvent()];
    for (const e of events) await t.publish(e); // recorded while no runtime runs
    const log = path.join(t.dataDir, 'child.log');
    const child = await t.spawnChild(log, 60_000);
    const started = await waitFor(() => readRunLog(log).find((r) => r.type === 'run'), 10_000, 'child started a job');
    await child.kill();
    const p = new ScriptedProcessor('work', quick());
    await t.start(p);
    for (const e of events) await t.waitStatus(e.uploadId, (s) => s.state === 'done');
    const killed = (await t.status.get(started.eventId.replace(/^upload-/, '')))!;
    expect(killed.jobs.work.attempts).toBe(2);
    expect([...p.effectCounts().values()]).toEqual([1, 1, 1]);
    expect(readRunLog(log).filter((r) => r.type === 'effect')).toHaveLength(0);
  });

  it('retries with exponential backoff, then succeeds', async () => {
    const t = await setup();
    let failures = 2;
    const p = new ScriptedProcessor('work', async () => {
      if (failures-- > 0) throw new Error('storage hiccup');
      return { result: {} };
    });
    await t.start(p);
    const event = makeEvent();
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'done');
    expect(s.jobs.work.attempts).toBe(3);
    const [a, b, c] = p.runs.map((r) => r.startedAt);
    expect(b - a).toBeGreaterThanOrEqual(75); // 100 ms ± 20 %
    expect(c - b).toBeGreaterThanOrEqual(155); // 200 ms ± 20 %
  });

  it('dead-letters a poison job after max_deliver, with the reason', async () => {
    const t = await setup();
    const p = new ScriptedProcessor('work', async () => {
      throw new Error('cannot parse');
    });
    await t.start(p);
    const event = makeEvent();
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'failed');
    expect(s.jobs.work).toMatchObject({ attempts: 3, reason: 'INTERNAL: cannot parse' });
    const [dead] = await waitFor(async () => {
      const d = await t.deadLetters();
      return d.length > 0 && d;
    });
    expect(dead).toMatchObject({ jobId: `${event.eventId}:work`, attempts: 3, code: 'INTERNAL', reason: 'INTERNAL: cannot parse (after 3 attempts)' });
    await wait(500);
    expect(p.runs).toHaveLength(3);
  });

  it('a job whose worker dies on every attempt is dead-lettered (MAX_DELIVERIES), not run forever', async () => {
    const t = await setup({ PROCESSOR_CONCURRENCY: '1' });
    const event = makeEvent();
    await t.publish(event);
    const log = path.join(t.dataDir, 'child.log');
    for (let attempt = 1; attempt <= 3; attempt++) {
      const child = await t.spawnChild(log, 60_000);
      await waitFor(() => readRunLog(log).filter((r) => r.type === 'run').length === attempt, 10_000, `attempt ${attempt}`);
      await child.kill();
    }
    const p = new ScriptedProcessor('work', quick());
    await t.start(p);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'failed');
    expect(s.jobs.work.code).toBe('MAX_DELIVERIES');
    expect(p.runs).toHaveLength(0);
    // The status is written before the dead-letter record: wait for the record.
    const [dead] = await waitFor(async () => {
      const d = await t.deadLetters();
      return d.length > 0 && d;
    });
    expect(dead).toMatchObject({ code: 'MAX_DELIVERIES', attempts: 4 });
  });

  it('an event published again after its job finished makes no second effect', async () => {
    const t = await setup();
    const p = new ScriptedProcessor('work', quick());
    await t.start(p);
    const event = makeEvent();
    await t.publish(event);
    await t.publish(event);
    await t.waitStatus(event.uploadId, (x) => x.state === 'done');
    await t.publish(event);
    await waitFor(async () => (await fs.readdir(path.join(t.eventsDir, 'pending'))).length === 0, 5000, 'outbox drained');
    await wait(300);
    expect(p.effects).toHaveLength(1);
  });

  it('an upload removed while its job runs: the results the job stored are removed, the job is skipped', async () => {
    const t = await setup();
    const file = path.join(t.dataDir, 'doomed');
    await fs.writeFile(file, 'hello');
    const p = new ScriptedProcessor('work', async (_e, ctx) => {
      await ctx.results.put('text.txt', Buffer.from('extracted'));
      await fs.rm(file); // the upload is terminated meanwhile
      return { result: {} };
    });
    await t.start(p);
    const event = makeEvent({ filePath: file });
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'skipped');
    expect(s.jobs.work.reason).toMatch(/removed while it was processed/);
    await expect(fs.readdir(path.join(t.dataDir, 'results', event.uploadId))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('SIGTERM drains: the running job finishes, the process exits 0', async () => {
    const t = await setup();
    const log = path.join(t.dataDir, 'child.log');
    const child = await t.spawnChild(log, 500);
    const event = makeEvent();
    await t.publish(event);
    await waitFor(() => readRunLog(log).some((r) => r.type === 'run'), 10_000, 'job started');
    expect(await child.terminate()).toBe(0);
    expect(readRunLog(log).filter((r) => r.type === 'effect')).toHaveLength(1);
    expect((await t.status.get(event.uploadId))!.state).toBe('done');
  });
});
