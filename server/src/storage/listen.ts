import type { EventEmitter } from 'node:events';

/** What EventEmitter itself takes. */
type Listener = (...args: any[]) => void;

/**
 * Adds `on` listeners (every time) and `once` listeners to `emitter`, in order, and returns the one
 * function that removes them all: what a stream reader attaches and what it detaches cannot drift apart.
 */
export function listen(emitter: EventEmitter, on: Record<string, Listener>, once: Record<string, Listener> = {}): () => void {
  for (const [event, listener] of Object.entries(on)) emitter.on(event, listener);
  for (const [event, listener] of Object.entries(once)) emitter.once(event, listener);
  return () => {
    for (const [event, listener] of [...Object.entries(on), ...Object.entries(once)]) emitter.off(event, listener);
  };
}
