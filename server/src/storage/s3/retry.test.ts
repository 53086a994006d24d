import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isTransient, retrying, sendWithRetries } from './retry.js';

const busy = () => Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
const denied = () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
const fast = { attempts: 4, baseDelayMs: 1 };

async function text(body: Readable | Buffer): Promise<string> {
  if (Buffer.isBuffer(body)) return body.toString();
  let all = '';
  for await (const chunk of body) all += chunk;
  return all;
}

describe('isTransient', () => {
  it('says yes to busy, throttled, 5xx and network failures', () => {
    expect(isTransient(busy())).toBe(true);
    expect(isTransient({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransient({ name: 'Unknown', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isTransient({ name: 'Throttling', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isTransient({ $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('says no to refusals, missing things and 501', () => {
    expect(isTransient(denied())).toBe(false);
    expect(isTransient({ name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } })).toBe(false);
    expect(isTransient({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } })).toBe(false);
    expect(isTransient(new Error('plain'))).toBe(false);
    expect(isTransient(undefined)).toBe(false);
  });
});

describe('retrying', () => {
  it('retries transient failures until one succeeds, telling onRetry about each', async () => {
    let tries = 0;
    const told: string[] = [];
    expect(await retrying(async () => (++tries < 3 ? Promise.reject(busy()) : 'ok'), { ...fast, onRetry: (err) => told.push((err as Error).name) })).toBe('ok');
    expect(tries).toBe(3);
    expect(told).toEqual(['SlowDown', 'SlowDown']);
  });

  it('throws a refusal at once, and the last transient failure after the last try', async () => {
    let tries = 0;
    await expect(retrying(async () => { tries++; throw denied(); }, fast)).rejects.toThrow('Access Denied');
    expect(tries).toBe(1);
    tries = 0;
    await expect(retrying(async () => { tries++; throw busy(); }, fast)).rejects.toThrow('reduce your request rate');
    expect(tries).toBe(4);
  });
});

describe('sendWithRetries', () => {
  it('reads a staged file again for each try, so every try sends the whole part', async () => {
    const file = path.join(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'retry-')), 'part');
    await fs.promises.writeFile(file, 'the whole part');
    const sent: string[] = [];
    const result = await sendWithRetries(fs.createReadStream(file), async (body) => {
      sent.push(await text(body));
      if (sent.length < 3) throw busy();
      return 'etag';
    }, fast);
    expect(result).toBe('etag');
    expect(sent).toEqual(['the whole part', 'the whole part', 'the whole part']);
    await fs.promises.rm(path.dirname(file), { recursive: true });
  });

  it('resends a buffer as it is', async () => {
    const sent: string[] = [];
    await sendWithRetries(Buffer.from('abc'), async (body) => {
      sent.push(await text(body));
      if (sent.length < 2) throw busy();
    }, fast);
    expect(sent).toEqual(['abc', 'abc']);
  });

  it('gives a stream that is not a file one try: it cannot be sent twice', async () => {
    let tries = 0;
    await expect(sendWithRetries(Readable.from(['x']), async () => { tries++; throw busy(); }, fast)).rejects.toThrow('reduce');
    expect(tries).toBe(1);
  });
});
