import { Redis, type RedisOptions } from 'ioredis';
import { CircuitOpenError, type CircuitBreaker } from './breaker.js';

/** How long Redis commands may take and wait (`REDIS_COMMAND_TIMEOUT`, `REDIS_OFFLINE_QUEUE`). */
export interface RedisGuardSettings {
  /** A command without an answer after this long fails (`REDIS_COMMAND_TIMEOUT`, default 2s). */
  commandTimeoutMs: number;
  /**
   * Commands queued while the connection is down (`REDIS_OFFLINE_QUEUE`, default 1000): more fail at
   * once; each queued one also fails after the command timeout, or after two reconnect attempts.
   */
  offlineQueueMax: number;
}

/**
 * Thrown for a Redis command that could not be answered: it timed out, the connection was lost or
 * not up, the offline queue was full, or Redis's circuit breaker is open (then `cause` is the
 * {@link CircuitOpenError}). `retryAfterMs` says when to try again. Answers Redis gave (a `ReplyError`
 * such as WRONGTYPE) are not this: the service is up.
 */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
  readonly service = 'redis';
  constructor(
    cause: unknown,
    readonly retryAfterMs = 1000,
  ) {
    super(`redis unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Whether `err`, or an error it was caused by, says Redis is unavailable (see {@link RedisUnavailableError}). */
export function redisUnavailable(err: unknown): RedisUnavailableError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as Error).cause, depth++) {
    if (e instanceof RedisUnavailableError) return e;
  }
  return undefined;
}

/** ioredis options that bound every command in time, and the offline queue by reconnect attempts. */
export function redisOptions(settings: RedisGuardSettings): Pick<RedisOptions, 'commandTimeout' | 'maxRetriesPerRequest' | 'enableOfflineQueue'> {
  return { commandTimeout: settings.commandTimeoutMs, maxRetriesPerRequest: 2, enableOfflineQueue: true };
}

/** Commands of the connection itself (handshake, subscriptions): never refused, never counted. */
const CONNECTION_COMMANDS = new Set(['auth', 'hello', 'select', 'client', 'readonly', 'info', 'quit', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe']);

interface CommandLike {
  name: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  promise: Promise<unknown>;
}

/** ioredis's `ReplyError` (an answer from Redis) carries no class we can import cheaply: it is named so. */
const isReply = (err: unknown) => (err as Error | undefined)?.name === 'ReplyError';

/**
 * Puts every command of `client` behind `breaker` (a wrapper around the client, so stores that use it
 * stay plain): while the breaker is open, commands fail at once with {@link RedisUnavailableError}
 * (never reaching a Redis that does not answer); commands that time out or lose their connection
 * count as failures and fail with it too; answers, errors from Redis included, close the breaker.
 * A full offline queue refuses further commands. Commands of a pipeline never become the half-open
 * probe (one refused command would keep the rest of its pipeline from being written).
 */
export function guardRedis<T extends Redis>(client: T, breaker: CircuitBreaker, settings: RedisGuardSettings): T {
  const own = Object.prototype.hasOwnProperty.call(client, 'sendCommand') ? client.sendCommand : undefined;
  const offline = client as unknown as { offlineQueue?: { length: number } };
  const guarded = function sendCommand(this: T, command: CommandLike, stream?: unknown, ...rest: unknown[]) {
    // Looked up at each call: an instrumentation that wraps the prototype later (traces) is still called.
    const inner = (own ?? Object.getPrototypeOf(client).sendCommand) as (...args: unknown[]) => Promise<unknown>;
    if (CONNECTION_COMMANDS.has(command.name)) return inner.call(this, command, stream, ...rest);
    let call: { settle(failed: boolean): void };
    try {
      if (client.status !== 'ready' && (offline.offlineQueue?.length ?? 0) >= settings.offlineQueueMax) {
        throw new Error(`offline queue full (${settings.offlineQueueMax} commands wait for the connection)`);
      }
      call = breaker.admit({ probe: stream === undefined });
    } catch (err) {
      command.reject(new RedisUnavailableError(err, err instanceof CircuitOpenError ? err.retryAfterMs : 1000));
      return command.promise;
    }
    const { resolve, reject } = command;
    command.resolve = (value) => {
      call.settle(false);
      resolve(value);
    };
    command.reject = (err) => {
      const down = !isReply(err);
      call.settle(down);
      reject(down ? new RedisUnavailableError(err, Math.max(1000, breaker.retryAfterMs())) : err);
    };
    return inner.call(this, command, stream, ...rest);
  };
  Object.defineProperty(client, 'sendCommand', { value: guarded, writable: true, configurable: true });
  return client;
}

/**
 * A Redis client whose commands are bounded by `settings`, and behind `breaker` when one is given
 * (every process shares one `redis` breaker: see {@link guardRedis}).
 */
export function connectRedis(url: string, settings: RedisGuardSettings, options: { connectionName?: string; breaker?: CircuitBreaker } = {}): Redis {
  const client = new Redis(url, { ...redisOptions(settings), connectionName: options.connectionName });
  return options.breaker ? guardRedis(client, options.breaker, settings) : client;
}
