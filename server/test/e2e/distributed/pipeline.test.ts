/**
 * The distributed pipeline: nodes publish completion events to JetStream (through their Redis
 * outbox), a separate processor worker (`npm run processors`, here its compiled entry) fingerprints
 * the S3 object, and every node shows the status. NATS goes down while uploads finish, and a node is
 * killed right after acknowledging the last PATCH: no event is lost, none is doubled.
 */
import { createHash, randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../harness.js';
import { startStack, type Stack, startProcessorWorker, type ProcessorWorker } from '@tus-edge/testkit';
import { create, patch } from './client.js';

let stack: Stack;
let worker: ProcessorWorker | undefined;

beforeAll(async () => {
  stack = await startStack({ nodes: 2, env: { LOCK_TTL: '2s', S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB' } });
  worker = await startProcessorWorker({ ...stack.env, DATA_DIR: await tempDir(), LOG_LEVEL: 'warn', PROCESSOR_KINDS: 'fingerprint' }, 30_000);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

interface Info {
  processing: { state: string; jobs: Record<string, { attempts: number; result?: { sha256: string; mime: string } }> } | null;
}

async function processed(base: string, id: string, ms = 30_000): Promise<Info['processing']> {
  const deadline = Date.now() + ms;
  for (;;) {
    const info = (await (await fetch(`${base}/api/uploads/${id}`)).json()) as Info;
    if (info.processing?.state === 'done') return info.processing;
    if (Date.now() > deadline) throw new Error(`upload ${id} not processed: ${JSON.stringify(info.processing)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function uploadWhole(base: string, data: Buffer): Promise<string> {
  const p = await create(base, data.length);
  const r = await patch(base, p, 0, data);
  expect(r.status, r.body).toBe(204);
  return p.split('/').pop()!;
}

async function uploadsStreamMessages(): Promise<number> {
  const nc = await connect({ servers: stack.nats.url });
  try {
    return (await (await jetstreamManager(nc)).streams.info('UPLOADS')).state.messages;
  } finally {
    await nc.close();
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('distributed pipeline: JetStream, a processor worker, status on every node', () => {
  it('fingerprints an upload made through nginx; every node shows the status', async () => {
    const data = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(300_000)]);
    const id = await uploadWhole(stack.url, data);
    for (const node of stack.nodes) {
      const status = await processed(node.url, id);
      expect(status!.jobs.fingerprint.result).toMatchObject({ sha256: sha256(data), mime: 'application/pdf' });
    }
  });

  it('NATS down while uploads finish: the uploads succeed, and every event arrives once NATS is back, none doubled', async () => {
    const before = await uploadsStreamMessages();
    await stack.nats.down();
    const datas = Array.from({ length: 5 }, () => randomBytes(50_000 + Math.floor(Math.random() * 50_000)));
    const ids: string[] = [];
    try {
      for (const d of datas) ids.push(await uploadWhole(stack.url, d));
    } finally {
      await stack.nats.up();
    }
    for (const [i, id] of ids.entries()) {
      const status = await processed(stack.url, id);
      expect(status!.jobs.fingerprint.result!.sha256).toBe(sha256(datas[i]));
      expect(status!.jobs.fingerprint.attempts).toBe(1);
    }
    expect((await uploadsStreamMessages()) - before).toBe(ids.length);
  });

  it('a node killed right after acknowledging the last PATCH: the event still arrives', async () => {
    const victim = stack.nodes[0];
    const data = randomBytes(200_000);
    const id = await uploadWhole(victim.url, data);
    await victim.kill('SIGKILL');
    const status = await processed(stack.nodes[1].url, id);
    expect(status!.jobs.fingerprint.result!.sha256).toBe(sha256(data));
    await victim.start();
  });
});
