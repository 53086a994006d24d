import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../../test/harness.js';
import { DirectoryOutbox, type EventPublisher, type UploadCompletedEvent } from '@tus-edge/processors';
import { TUS } from '@tus-edge/testkit';

async function upload(server: TestServer, body: string, metadata = 'filename YS50eHQ='): Promise<string> {
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(body.length), 'Upload-Metadata': metadata, 'Content-Type': 'application/offset+octet-stream' },
    body,
  });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

describe('completion events (embedded outbox)', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('records one versioned event per finished upload, durably, under DATA_DIR', async () => {
    server = await startTestServer({ PROCESSORS_IN_PROCESS: 'false' });
    const id = await upload(server, 'hello');
    const outbox = new DirectoryOutbox(path.join(server.dataDir, 'events'));
    const events = await outbox.pending();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      version: 1,
      type: 'uploads.completed',
      eventId: `upload-${id}`,
      uploadId: id,
      size: 5,
      metadata: { filename: 'a.txt' },
      location: { kind: 'file', path: path.join(server.dataDir, 'uploads', id) },
    });
    expect(Date.parse(events[0].completedAt)).toBeGreaterThan(0);
  });

  it('collapses duplicate publishes of the same event', async () => {
    const outbox = new DirectoryOutbox(await tempDir());
    const event = { version: 1, type: 'uploads.completed', eventId: 'upload-x', uploadId: 'x', size: 1, metadata: {}, location: { kind: 'file', path: '/x' }, completedAt: new Date().toISOString(), node: 'n' } as UploadCompletedEvent;
    await outbox.publish(event);
    await outbox.publish(event);
    expect(await outbox.pending()).toHaveLength(1);
  });

  it('an upload still succeeds when the publisher fails, and the event is recorded on the next start', async () => {
    const dataDir = await tempDir();
    const failing: EventPublisher = { publish: async () => { throw new Error('broker down'); } };
    server = await startTestServer({ DATA_DIR: dataDir, PROCESSORS_IN_PROCESS: 'false' }, { events: failing });
    const id = await upload(server, 'bytes');
    const head = await fetch(`${server.tusUrl}/${id}`, { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe('5');
    await server.close();
    await expect(fs.readdir(path.join(dataDir, 'events', 'pending'))).rejects.toThrow();

    server = await startTestServer({ DATA_DIR: dataDir, PROCESSORS_IN_PROCESS: 'false' });
    const events = await new DirectoryOutbox(path.join(dataDir, 'events')).pending();
    expect(events.map((e) => e.uploadId)).toEqual([id]);
    await server.close();
    // A third start does not publish it again: it is marked as recorded.
    await fs.rm(path.join(dataDir, 'events'), { recursive: true });
    server = await startTestServer({ DATA_DIR: dataDir, PROCESSORS_IN_PROCESS: 'false' });
    expect(await new DirectoryOutbox(path.join(dataDir, 'events')).pending()).toEqual([]);
    await server.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    server = undefined;
  });
});
