import fsp from 'node:fs/promises';

/**
 * Returns `ensure()`, which creates `directory` (recursively) the first time it is called and is
 * free afterwards; a failed attempt is retried on the next call. Hot paths (every POST) call it
 * instead of `mkdir -p`, which costs a mkdir and a stat each time. `reset()` forgets, for a caller
 * that found the directory gone (ENOENT).
 */
export function directoryOnce(directory: string): { ensure(): Promise<void>; reset(): void } {
  let made: Promise<void> | undefined;
  return {
    ensure: () =>
      (made ??= fsp.mkdir(directory, { recursive: true }).then(
        () => undefined,
        (err: unknown) => {
          made = undefined;
          throw err;
        },
      )),
    reset: () => {
      made = undefined;
    },
  };
}
