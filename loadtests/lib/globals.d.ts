/** k6 provides `console` in every context; @types/k6 does not declare it (and the DOM lib is not k6's). */
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
};
