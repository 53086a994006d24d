import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBody } from './body.js';
import { HeldBody } from './held-body.js';

function collect(body: HeldBody): Promise<{ bytes: string; end: string }> {
  return new Promise((resolve) => {
    let bytes = '';
    readBody(body, { limit: 1000 }, { data: (c) => (bytes += c.toString()), end: (end) => resolve({ bytes, end }) });
  });
}

describe('HeldBody', () => {
  it('keeps what arrived before the client went away, even if nobody was reading yet, and says the client is gone', async () => {
    const incoming = new PassThrough();
    const held = new HeldBody(incoming);
    incoming.write('abcd');
    await new Promise((r) => setTimeout(r, 10));
    incoming.destroy();
    await new Promise((r) => setTimeout(r, 10));
    expect(held.clientGone).toBe(true);
    expect(await collect(held)).toEqual({ bytes: 'abcd', end: 'client-aborted' });
  });

  it('passes a whole body through and ends it as complete', async () => {
    const incoming = new PassThrough();
    const held = new HeldBody(incoming, 4);
    const reading = collect(held);
    incoming.write('0123456789');
    incoming.end('!');
    expect(await reading).toEqual({ bytes: '0123456789!', end: 'complete' });
    expect(held.clientGone).toBe(false);
  });
});
