/**
 * The S3 part layout kept in Redis between PATCHes (layout-cache.ts), on a real S3 (Swift) and a real
 * redis-server: the storage contract with it, S3 requests per PATCH with and without it, and the dirty
 * mark a writer killed mid-write leaves (the next reader asks S3 again).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '@tus-edge/processors';
import { startRedis, startS3, type RedisHandle, type S3Handle } from '@tus-edge/testkit';
import { RedisKvStore } from '../../records/redis-kv.js';
import { storageContract } from '../storage.contract.js';
import type { CachedLayout } from './layout-cache.js';
import { S3Storage } from './s3-storage.js';

const MiB = 1024 * 1024;
let s3: S3Handle;
let redisServer: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  // Swift builds its rings in Python: on a loaded machine that alone has taken over 30 s.
  [s3, redisServer] = await Promise.all([startS3({ timeoutMs: 100_000 }), startRedis()]);
  redis = new Redis(redisServer.url);
}, 120_000);
afterAll(async () => {
  redis?.disconnect();
  await Promise.all([s3?.stop(), redisServer?.stop()]);
});

const prefix = `t${randomBytes(4).toString('hex')}:`;
const layoutsIn = (p = prefix) => new RedisKvStore<CachedLayout>(redis, `${p}s3layout:`);

/**
 * A storage whose S3 client records every command it sends in `sent`; `fail(command)` makes a command
 * fail at once with a 403 (not retried), as a node that dies mid-write would leave things.
 */
function makeStorage(options: { layouts?: boolean; sent?: string[]; fail?: (command: string) => boolean } = {}): S3Storage {
  const client = createS3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      options.sent?.push(command);
      if (options.fail?.(command)) {
        const body = (args.input as { Body?: unknown }).Body;
        if (body instanceof Readable) for await (const _ of body);
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return new S3Storage({
    client, bucket: s3.bucket, partSize: 5 * MiB, partConcurrency: 4, maxUploadSize: 1024 ** 3,
    layouts: options.layouts === false ? undefined : layoutsIn(),
  });
}

const write = (s: S3Storage, id: string, offset: number, data: Buffer) =>
  s.offset(id).then((o) => s.write(id, offset, Readable.from([data]), { limit: data.length, expected: data.length, basis: o?.basis }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function stored(s: S3Storage, id: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await s.read(id)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

storageContract('S3Storage with the part layout in Redis (real S3 server, real redis-server)', async () => makeStorage());

describe('S3Storage with the part layout in Redis', () => {
  it('a PATCH (offset check + write) sends S3 only its parts; without the layout it also sends ListParts and HeadObject', async () => {
    const perPatch: Record<'with' | 'without', string[][]> = { with: [], without: [] };
    for (const mode of ['with', 'without'] as const) {
      const sent: string[] = [];
      const s = makeStorage({ layouts: mode === 'with', sent });
      const id = `lay${mode}${randomBytes(6).toString('hex')}`;
      const data = randomBytes(18 * MiB);
      await s.create(id, { length: data.length });
      for (let at = 0; at < data.length; at += 6 * MiB) {
        sent.length = 0;
        await write(s, id, at, data.subarray(at, at + 6 * MiB));
        perPatch[mode].push([...sent].sort());
      }
      expect(await stored(s, id)).toBe(sha(data));
    }
    // The middle PATCH: neither the first (no layout stored yet without Redis) nor the finishing one.
    expect(perPatch.with[1]).toEqual(['UploadPart']);
    expect(perPatch.without[1]).toEqual(['HeadObject', 'ListParts', 'UploadPart']);
    // The first PATCH after creation asks for no layout either (creation stored the empty one); it
    // reads the upload's info once (GetObject of <id>.info; kept in Redis by the server after that).
    expect(perPatch.with[0].filter((c) => c !== 'GetObject')).toEqual(['UploadPart']);
    expect(perPatch.without[0]).toEqual(expect.arrayContaining(['HeadObject', 'ListParts', 'UploadPart']));
  });

  it('a write that dies after sending parts leaves the dirty mark: the next node asks S3 and goes on from what S3 holds', async () => {
    const id = `laydirty${randomBytes(6).toString('hex')}`;
    const data = randomBytes(30 * MiB);
    let parts = 0;
    // Node A: the first write is whole; the second (4 parts of 6 MiB) fails on its third part.
    const a = makeStorage({ fail: (command) => command === 'UploadPart' && ++parts === 4 });
    await a.create(id, { length: data.length });
    await write(a, id, 0, data.subarray(0, 6 * MiB));
    expect(await layoutsIn().get(id)).toMatchObject({ parts: [{ PartNumber: 1, Size: 6 * MiB }] });
    await expect(write(a, id, 6 * MiB, data.subarray(6 * MiB, 30 * MiB))).rejects.toThrow();
    expect(await layoutsIn().get(id)).toMatchObject({ writing: true });
    // Node B: the layout is dirty, so its offset comes from ListParts (every part that did arrive).
    const sent: string[] = [];
    const b = makeStorage({ sent });
    const offset = (await b.offset(id))!.bytes;
    expect(sent).toContain('ListParts');
    expect(offset % (6 * MiB)).toBe(0);
    expect(offset).toBeGreaterThanOrEqual(6 * MiB);
    expect(offset).toBeLessThan(30 * MiB);
    // The client resumes there; B's write stores the layout again, and the upload ends whole.
    await write(b, id, offset, data.subarray(offset));
    expect(await stored(b, id)).toBe(sha(data));
    expect(await layoutsIn().get(id)).toBeUndefined();
  });
});
