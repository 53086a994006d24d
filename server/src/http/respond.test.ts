import { describe, expect, it } from 'vitest';
import { tusError } from '../errors.js';
import { createLogger } from '../ops/logger.js';
import { Metrics } from '../ops/metrics.js';
import { StorageUnavailableError } from '../storage/types.js';
import { errorResponse } from './respond.js';

describe('errorResponse', () => {
  const answer = async (err: unknown) => {
    const lines: string[] = [];
    const res = errorResponse(err, new Metrics(), createLogger('info', {}, (l) => lines.push(l)));
    return { res, body: (await res.json()) as { error: { code: string; message: string } }, logged: lines.map((l) => JSON.parse(l).msg) };
  };

  it('answers a catalogue error with its status, code and headers', async () => {
    const { res, body } = await answer(tusError('OFFSET_MISMATCH', undefined, { 'Upload-Offset': '5' }));
    expect(res.status).toBe(409);
    expect(res.headers.get('upload-offset')).toBe('5');
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    expect(body.error.code).toBe('OFFSET_MISMATCH');
  });

  it('answers a busy storage with 503 and Retry-After, so clients retry instead of giving up', async () => {
    const { res, body, logged } = await answer(new StorageUnavailableError(new Error('Please reduce your request rate.')));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(body.error).toEqual({ code: 'STORAGE_UNAVAILABLE', message: expect.stringContaining('Please reduce your request rate.') });
    expect(logged).toEqual(['storage unavailable']);
  });

  it('answers anything else with a 500 that names no internals, and logs it', async () => {
    const { res, body, logged } = await answer(new Error('secret detail'));
    expect(res.status).toBe(500);
    expect(body.error).toEqual({ code: 'INTERNAL', message: 'internal server error' });
    expect(logged).toEqual(['unhandled error']);
  });
});
