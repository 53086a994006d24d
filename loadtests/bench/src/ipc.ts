import type { ChildProcess } from 'node:child_process';

/**
 * Request/reply over a forked server child's IPC channel: sends `{ type, id }` and resolves with the
 * child's message of the same type and id (serve.ts and distributed/serve.ts answer that way).
 */
export function asker(child: ChildProcess): <T>(type: string) => Promise<T> {
  let nextId = 0;
  return <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      const onMsg = (m: { type: string; id?: number }) => {
        if (m.type === type && m.id === id) {
          child.off('message', onMsg);
          resolve(m as T);
        }
      };
      child.on('message', onMsg);
      child.send({ type, id }, (err) => err && reject(err));
    });
}
