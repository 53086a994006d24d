import type { LogLevel } from './config/config.js';
import { activeTraceId } from './tracing/spans.js';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, unknown>;

/** Structured logger; the server's logger has the same shape and can be passed in embedded mode. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** JSON lines at or above `level` to `write` (default stdout). */
export function createLogger(level: LogLevel, base: LogFields = {}, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const threshold = ORDER[level];
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[lvl] < threshold) return;
    const entry: LogFields = { time: new Date().toISOString(), level: lvl, msg, ...base, ...fields };
    // Lines written inside a traced span carry its trace id, to find the trace from a log line.
    const traceId = activeTraceId();
    if (traceId) entry.trace_id = traceId;
    if (entry.err instanceof Error) entry.err = { name: entry.err.name, message: entry.err.message, stack: entry.err.stack };
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger('silent');
