/**
 * The test services start the real programs (Redis, NATS, Swift or an external S3, nginx), answer,
 * restart on the same port, and leave no process behind.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createS3Client, startNats, startNginx, startRedis, startS3, type S3Handle } from './services.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedis', () => {
  it('answers PING, restarts on the same port, and stop leaves no process', async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 20, retryStrategy: () => 50 });
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await client.ping()).toBe('PONG');
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');

      const oldPid = redis.pid;
      await redis.restart();
      expect(redis.pid).not.toBe(oldPid);
      expect(isAlive(oldPid)).toBe(false);
      // The same client reconnects to the same port; nothing was persisted (`--save ''`).
      expect(await client.ping()).toBe('PONG');
      expect(await client.get('k')).toBeNull();
      await client.set('k', 'v2');
      expect(await client.get('k')).toBe('v2');
    } finally {
      client.disconnect();
      await redis.stop();
    }
    expect(isAlive(redis.pid)).toBe(false);
  });
});

describe('startNats', () => {
  it('serves clients with JetStream on, and stop leaves no process', async () => {
    const nats = await startNats();
    try {
      expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
      const socket = net.connect(nats.port, '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      for await (const chunk of socket) {
        received += chunk;
        if (received.includes('\r\n')) break;
      }
      socket.destroy();
      const line = received.slice(0, received.indexOf('\r\n'));
      expect(line).toMatch(/^INFO \{/);
      const info = JSON.parse(line.slice(5)) as { jetstream?: boolean; host?: string; port?: number };
      expect(info).toMatchObject({ jetstream: true, host: '127.0.0.1', port: nats.port });
    } finally {
      await nats.stop();
    }
    expect(isAlive(nats.pid)).toBe(false);
  });
});

describe('startS3', () => {
  let s3: S3Handle | undefined;
  let client: S3Client | undefined;
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  it('stores objects and multipart uploads, deletes in bulk, and keeps data across restart', async () => {
    s3 = await startS3();
    client = createS3Client(s3);
    const Bucket = s3.bucket;
    expect(s3).toMatchObject({ region: expect.any(String), forcePathStyle: true });

    await client.send(new PutObjectCommand({ Bucket, Key: 'small.txt', Body: 'hello swift', ContentType: 'text/plain' }));
    const small = await client.send(new GetObjectCommand({ Bucket, Key: 'small.txt' }));
    expect(await small.Body!.transformToString()).toBe('hello swift');

    // Multipart: one 5 MiB part (the S3 minimum for all but the last) and a 1-byte last part.
    const Key = 'big.bin';
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1)];
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const spare = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'spare.bin' }));
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) {
      const res = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }));
      etags.push(res.ETag!);
    }
    const listed = await client.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 5 * 1024 * 1024],
      [2, 1],
    ]);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }));
    expect(uploads.Uploads?.map((u) => u.UploadId).sort()).toEqual([UploadId, spare.UploadId].sort());
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key: 'spare.bin', UploadId: spare.UploadId }));
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).toEqual([]);

    // DeleteObjects needs Content-MD5 on Swift: createS3Client adds it.
    await client.send(new PutObjectCommand({ Bucket, Key: 'gone-1', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket, Key: 'gone-2', Body: 'y' }));
    const deleted = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'gone-1' }, { Key: 'gone-2' }] } }));
    expect(deleted.Errors ?? []).toEqual([]);
    const keys = (await client.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((o) => o.Key);
    expect(keys).toEqual(['big.bin', 'small.txt']);

    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const expected = sha(Buffer.concat(parts));
    if (s3.kind === 'external') {
      await expect(s3.restart()).rejects.toThrow(/not supported for external S3/);
    } else {
      const oldPids = s3.pids;
      await s3.restart();
      expect(oldPids.some(isAlive)).toBe(false);
    }
    const big = await client.send(new GetObjectCommand({ Bucket, Key }));
    expect(big.ContentLength).toBe(5 * 1024 * 1024 + 1);
    expect(sha(await big.Body!.transformToByteArray())).toBe(expected);

    const pids = s3.pids;
    await s3.stop();
    expect(pids.some(isAlive)).toBe(false);
  }, 240_000);
});

interface Upstream {
  url: string;
  server: http.Server;
  /** What each request to this upstream looked like. */
  seen: { method: string; host?: string; forwardedFor?: string; forwardedProto?: string; bytes: number; sha256: string }[];
  /** Called with the byte count every time body bytes arrive. */
  onBytes?: (total: number) => void;
}

async function startUpstream(name: string): Promise<Upstream> {
  const up: Upstream = { url: '', server: http.createServer(), seen: [] };
  up.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      up.onBytes?.(bytes);
    });
    req.on('end', () => {
      up.seen.push({
        method: req.method!,
        host: req.headers.host,
        forwardedFor: req.headers['x-forwarded-for'] as string | undefined,
        forwardedProto: req.headers['x-forwarded-proto'] as string | undefined,
        bytes,
        sha256: hash.digest('hex'),
      });
      res.end(name);
    });
  });
  up.server.listen(0, '127.0.0.1');
  await once(up.server, 'listening');
  up.url = `http://127.0.0.1:${(up.server.address() as net.AddressInfo).port}`;
  return up;
}

describe('startNginx', () => {
  it('balances round-robin and streams a 20 MiB PUT without buffering it', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const lb = await startNginx([a.url, b.url]);
    try {
      const names: string[] = [];
      for (let i = 0; i < 4; i++) names.push(await (await fetch(`${lb.url}/ping`)).text());
      expect(names.sort()).toEqual(['a', 'a', 'b', 'b']);
      expect(a.seen[0]).toMatchObject({ method: 'GET', host: `127.0.0.1:${lb.port}`, forwardedFor: '127.0.0.1', forwardedProto: 'http' });

      // Send 1 MiB, then wait until an upstream has received body bytes before sending the other
      // 19 MiB: if nginx buffered request bodies, nothing would arrive and this would time out.
      const size = 20 * 1024 * 1024;
      const body = randomBytes(size);
      let firstBytes!: () => void;
      const arrived = new Promise<void>((resolve) => (firstBytes = resolve));
      a.onBytes = b.onBytes = () => firstBytes();
      const req = http.request(`${lb.url}/files/x`, { method: 'PUT', headers: { 'content-length': String(size) } });
      const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
      response.catch(() => undefined); // awaited below; avoid an unhandled rejection if we fail earlier
      req.write(body.subarray(0, 1024 * 1024));
      try {
        await Promise.race([
          arrived,
          new Promise((_, reject) => setTimeout(() => reject(new Error('no body bytes reached the upstream: nginx buffers request bodies')), 5_000)),
        ]);
      } catch (err) {
        req.destroy();
        throw err;
      }
      req.end(body.subarray(1024 * 1024));
      const [res] = await response;
      res.resume();
      expect(res.statusCode).toBe(200);
      const put = [...a.seen, ...b.seen].find((s) => s.method === 'PUT');
      expect(put).toMatchObject({ bytes: size, sha256: createHash('sha256').update(body).digest('hex') });
    } finally {
      await lb.stop();
      a.server.close();
      b.server.close();
      a.server.closeAllConnections();
      b.server.closeAllConnections();
    }
    expect(isAlive(lb.pid)).toBe(false);
  });
});
