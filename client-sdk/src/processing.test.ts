import { describe, expect, it } from 'vitest';
import { readEvents } from './processing.js';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

describe('readEvents (text/event-stream)', () => {
  it('parses events split across chunks, multi-line data and CRLF; skips comments', async () => {
    const events = [];
    for await (const e of readEvents(streamOf('event: status\nid: 1\nda', 'ta: {"a":1}\n\n: heartbeat\n\n', 'event: status\r\ndata: line1\r\ndata: line2\r\n\r\n', 'data: plain\n\n'))) events.push(e);
    expect(events).toEqual([
      { event: 'status', data: '{"a":1}' },
      { event: 'status', data: 'line1\nline2' },
      { event: 'message', data: 'plain' },
    ]);
  });

  it('decodes UTF-8 split inside a character', async () => {
    const bytes = new TextEncoder().encode('data: café\n\n');
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 10));
        c.enqueue(bytes.slice(10));
        c.close();
      },
    });
    const events = [];
    for await (const e of readEvents(stream)) events.push(e.data);
    expect(events).toEqual(['café']);
  });
});
