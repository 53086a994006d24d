/**
 * The maintenance job on the distributed deployment: two server nodes (in this process) sharing a real
 * S3 (Swift s3api), Redis and PostgreSQL, each scheduling the `maintenance` kind every second. Each
 * slot runs on one node only (the job lease in Redis; the other settles it as a duplicate); the policies
 * move a video to the cold prefix and delete a scratch file once; both nodes read the moved bytes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, OCTET, sha256, startDistributedServices, TUS, type DistributedServices } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../../harness.js';

let services: DistributedServices;
let nodes: TestServer[] = [];
const INTERVAL_MS = 1000;
let firstSlot = 0;

beforeAll(async () => {
  services = await startDistributedServices();
  const env = await services.serverEnv('lifecycle_nodes', `lifecycle-${Date.now()}:`, {
    STAGING_MIN_FREE: '64MiB', PROCESSORS_IN_PROCESS: 'false',
    MAINTENANCE_INTERVAL: `${INTERVAL_MS}ms`, FILE_POLICIES: 'cold: type=video/* cold=2s; scratch: tag=tmp delete=2s',
  });
  firstSlot = Math.floor(Date.now() / INTERVAL_MS);
  nodes = [await startTestServer({ ...env, NODE_NAME: 'n1' }), await startTestServer({ ...env, NODE_NAME: 'n2' })];
}, 400_000);
afterAll(async () => {
  for (const n of nodes) await n.close();
  await services?.stop();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
async function upload(node: TestServer, data: Buffer, metadata: Record<string, string>): Promise<string> {
  const meta = Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(',');
  const res = await httpRequest(node.tusUrl, 'POST', { ...TUS, 'Upload-Length': String(data.length), 'Upload-Metadata': meta, 'Content-Type': OCTET }, data);
  expect(res.status).toBe(201);
  return String(res.headers.location).split('/').pop()!;
}

async function until(what: string, probe: () => Promise<boolean>, ms = 40_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One sample of a metric, summed over both nodes (0 where absent). */
async function total(metric: string, labels: string): Promise<number> {
  let sum = 0;
  for (const node of nodes) {
    const text = await node.deps.metrics.registry.getSingleMetricAsString(metric).catch(() => '');
    const line = text.split('\n').find((l) => l.startsWith(`${metric}${labels} `));
    sum += line ? Number(line.slice(metric.length + labels.length + 1)) : 0;
  }
  return sum;
}

describe('distributed maintenance (S3, Redis, PostgreSQL; two nodes)', () => {
  it('applies the policies once, each slot on one node; the moved bytes read back from either node', async () => {
    const [n1, n2] = nodes;
    const video = randomBytes(400_000);
    const videoId = await upload(n1, video, { filename: 'v.mp4', filetype: 'video/mp4' });
    const scratchId = await upload(n2, randomBytes(1000), { filename: 's.txt', tags: 'tmp' });
    await until('video moved to cold', async () => (await n1.deps.catalogue.byUpload(videoId))?.object.storageClass === 'cold');
    await until('scratch deleted', async () => (await n1.deps.catalogue.byUpload(scratchId)) === undefined);
    // The run counts an action after its last step (the record goes first, then the bytes): wait for both counts.
    await until('actions counted', async () =>
      (await total('tus_maintenance_actions_total', '{action="cold",policy="cold"}')) >= 1
      && (await total('tus_maintenance_actions_total', '{action="delete",policy="scratch"}')) >= 1);
    for (const node of nodes) {
      const res = await httpRequest(`${node.tusUrl}/${videoId}`, 'GET', TUS);
      expect(res.status).toBe(200);
      expect(sha256(res.body)).toBe(sha256(video));
    }
    // The standard object is gone, the cold copy is there.
    await expect(n1.deps.storage.offset(videoId)).resolves.toBeUndefined();
    expect(await n1.deps.tiers.hasCold(videoId, video.length)).toBe(true);

    // Runs against slots: every slot is done once, whichever node ran it (a slot may start meanwhile:
    // runs are counted before and after the slots). Without the lease both nodes would run each slot.
    const runsBefore = await total('processor_jobs_total', '{kind="maintenance",outcome="done"}');
    const lastSlot = Math.floor(Date.now() / INTERVAL_MS);
    let slotsDone = 0;
    for (let slot = firstSlot; slot <= lastSlot; slot++) {
      if ((await n1.deps.status.get(`maintenance.${slot}`))?.jobs.maintenance?.state === 'done') slotsDone++;
    }
    const runsAfter = await total('processor_jobs_total', '{kind="maintenance",outcome="done"}');
    console.info('maintenance slots', { slotsDone, runsBefore, runsAfter });
    expect(slotsDone).toBeGreaterThan(2);
    expect(runsBefore).toBeLessThanOrEqual(slotsDone);
    expect(runsAfter).toBeGreaterThanOrEqual(slotsDone);
    // The node that did not run a slot settled it as a duplicate.
    expect(await total('processor_jobs_total', '{kind="maintenance",outcome="duplicate"}')).toBeGreaterThan(0);
    expect(await total('tus_maintenance_actions_total', '{action="cold",policy="cold"}')).toBe(1);
    expect(await total('tus_maintenance_actions_total', '{action="delete",policy="scratch"}')).toBe(1);
  }, 120_000);
});
