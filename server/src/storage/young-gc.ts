import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Returns a counter that runs a young-generation GC after every `everyBytes` of request body received.
 *
 * Socket read buffers are external memory, and the body path allocates so few JS objects that V8's
 * young generation rarely fills: dead buffers piled up until V8's external-memory limit started a full
 * mark-compact, about one per 18 MiB received (56 per GiB in the 8 MiB-PATCH benchmark, where stock
 * @tus/server had 6), and that marking was most of our user CPU per GiB. A minor GC every few MiB
 * frees them for well under a millisecond (1 mark-compact per GiB left; user CPU 1.5 → 0.4 s/GiB).
 * `gc` is exposed once through V8's flag, as `node --expose-gc` would.
 */
export function youngGcEvery(everyBytes: number): (bytes: number) => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (options: { type: 'minor' }) => void;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    gc({ type: 'minor' });
  };
}
