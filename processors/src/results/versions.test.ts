import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@tus-edge/testkit';
import { FileResultStore } from './file.js';
import { uploadResults } from './types.js';
import { archiveRun, MAX_RESULT_VERSIONS, versionsOf } from './versions.js';

let dir: string;
let store: FileResultStore;
beforeAll(async () => {
  dir = await tempDir();
  store = new FileResultStore(dir);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const owns = (name: string) => name === 'generated.json';
const names = async (id: string) => (await store.list(id)).map((f) => f.name);

describe('result versions', () => {
  it('keeps the kind\'s files of the earlier run as version n, once per run, and hides them from processors', async () => {
    await store.put('u1', 'generated.json', Buffer.from('{"run":1}'));
    await store.put('u1', 'text.json', Buffer.from('{}'));
    const previous = { runId: 'upload-u1', state: 'done' as const, finishedAt: 'T1', template: 'study@1' };
    const v1 = await archiveRun(store, 'u1', 'generate', owns, { runId: 'process-a', previous });
    expect(v1).toMatchObject({ version: 1, runId: 'upload-u1', supersededBy: 'process-a', template: 'study@1', files: [{ name: 'generated.json', size: 9 }] });
    expect(await names('u1')).toEqual(['text.json', 'v1.generate.generated.json', 'versions.generate.json']);
    // The run stores its own result; a retry of the same run archives nothing (its file stays current).
    await store.put('u1', 'generated.json', Buffer.from('{"run":2}'));
    expect(await archiveRun(store, 'u1', 'generate', owns, { runId: 'process-a', previous })).toBeNull();
    expect((await store.head('u1', 'generated.json'))!.size).toBe(9);
    expect((await uploadResults(store, 'u1').list()).map((f) => f.name)).toEqual(['generated.json', 'text.json']);
    // The next request makes version 2.
    await archiveRun(store, 'u1', 'generate', owns, { runId: 'process-b', previous: { runId: 'process-a', state: 'done' } });
    expect((await versionsOf(store, 'u1', 'generated.json')).map((v) => [v.version, v.runId])).toEqual([[1, 'upload-u1'], [2, 'process-a']]);
    expect((await versionsOf(store, 'u1', 'text.json'))).toEqual([]);
  });

  it(`keeps the ${MAX_RESULT_VERSIONS} newest versions of a kind`, async () => {
    for (let i = 1; i <= MAX_RESULT_VERSIONS + 2; i++) {
      await store.put('u3', 'generated.json', Buffer.from(`{"run":${i}}`));
      await archiveRun(store, 'u3', 'generate', owns, { runId: `process-${i}` });
    }
    const kept = await versionsOf(store, 'u3', 'generated.json');
    expect(kept.map((v) => v.version)).toEqual(Array.from({ length: MAX_RESULT_VERSIONS }, (_, i) => i + 3));
    expect((await names('u3')).filter((n) => n.startsWith('v'))).toHaveLength(MAX_RESULT_VERSIONS + 1); // and the manifest
  });

  it('records the run even with nothing to keep, so a retry does not take its own files for an earlier run\'s', async () => {
    expect(await archiveRun(store, 'u2', 'generate', owns, { runId: 'process-c' })).toBeNull();
    await store.put('u2', 'generated.json', Buffer.from('{}'));
    expect(await archiveRun(store, 'u2', 'generate', owns, { runId: 'process-c' })).toBeNull();
    expect(await names('u2')).toEqual(['generated.json', 'versions.generate.json']);
  });
});
