import { PassThrough, type Readable } from 'node:stream';
import { listen } from './listen.js';

/**
 * A request body taken in from its first byte, for requests that do slow work (S3 round trips)
 * before their write begins reading. Without it, bytes that arrived before a client disconnect would
 * be discarded with the destroyed request instead of being stored. Holds at most `highWaterMark`
 * (then the socket is paused, as usual). A body whose client went away ends normally with
 * `clientGone` set, so what was received is still written and reported as `client-aborted`.
 */
export class HeldBody extends PassThrough {
  clientGone = false;

  constructor(incoming: Readable, highWaterMark = 256 * 1024) {
    super({ highWaterMark });
    const gone = () => {
      if (incoming.readableEnded || this.writableEnded) return;
      this.clientGone = true;
      detach();
      this.end();
    };
    const onData = (chunk: Buffer) => {
      if (!this.write(chunk)) incoming.pause();
    };
    const onDrain = () => incoming.resume();
    const onEnd = () => {
      detach();
      this.end();
    };
    const detachIncoming = listen(incoming, { data: onData }, { end: onEnd, aborted: gone, close: gone, error: gone });
    const detachDrain = listen(this, { drain: onDrain });
    const detach = () => {
      detachIncoming();
      detachDrain();
    };
    if (incoming.destroyed) gone();
  }
}
