/**
 * Webhooks (issue 15): operator endpoints that receive every owner's events, how deliveries are timed
 * out and retried, and whether private targets are allowed.
 */
import { ConfigError, parseBoolean, parseDuration, parseInteger } from '@tus-edge/processors';
import type { RawEnv } from './config.js';

/** The variables this part reads (they join the server's ENV_KEYS). */
export const WEBHOOK_ENV_KEYS = [
  'WEBHOOK_URLS',
  'WEBHOOK_SECRET',
  'WEBHOOK_ALLOW_PRIVATE',
  'WEBHOOK_TIMEOUT',
  'WEBHOOK_RETRY_FOR',
  'WEBHOOK_BACKOFF_BASE',
  'WEBHOOK_BACKOFF_MAX',
  'WEBHOOK_CONCURRENCY',
  'WEBHOOK_POLL_INTERVAL',
] as const;

/** The events an endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['upload.finished', 'processing.done', 'processing.failed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Validated webhook configuration. Every field has a documented default. */
export interface WebhooksConfig {
  /**
   * Operator endpoints that receive every owner's events of every type (`WEBHOOK_URLS`, comma-separated
   * http(s) URLs, default none), signed with `WEBHOOK_SECRET` (required with them, at least 24 characters).
   */
  operatorUrls: string[];
  operatorSecret?: string;
  /**
   * Allow targets on private, loopback, link-local and metadata addresses (`WEBHOOK_ALLOW_PRIVATE`,
   * default false: such a target is refused at registration and at every delivery, against server-side
   * request forgery).
   */
  allowPrivate: boolean;
  /** One delivery attempt's time limit, connection to last byte of the answer (`WEBHOOK_TIMEOUT`, default 10s). */
  timeoutMs: number;
  /** A delivery is retried until this long after its event (`WEBHOOK_RETRY_FOR`, default 24h), then given up. */
  retryForMs: number;
  /** First retry delay; doubled per attempt, with jitter (`WEBHOOK_BACKOFF_BASE`, default 10s). */
  backoffBaseMs: number;
  /** Longest delay between two attempts (`WEBHOOK_BACKOFF_MAX`, default 1h). */
  backoffMaxMs: number;
  /** Deliveries sent at once by one node (`WEBHOOK_CONCURRENCY`, default 8). */
  concurrency: number;
  /**
   * How often the embedded queue looks for due deliveries, and how often a distributed node re-queues
   * deliveries overdue in JetStream (`WEBHOOK_POLL_INTERVAL`, default 1s).
   */
  pollIntervalMs: number;
}

function parseUrls(value: string): string[] {
  const urls = value.split(',').map((u) => u.trim()).filter(Boolean);
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`WEBHOOK_URLS entry "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`WEBHOOK_URLS entry "${url}" must be an http(s) URL`);
  }
  return urls;
}

/** Turns the raw variables into a {@link WebhooksConfig}; contradictions name the variables. */
export function parseWebhooks(raw: RawEnv): WebhooksConfig {
  const operatorUrls = raw.WEBHOOK_URLS ? parseUrls(raw.WEBHOOK_URLS) : [];
  if (operatorUrls.length > 0 && !raw.WEBHOOK_SECRET) throw new ConfigError('WEBHOOK_URLS is set but WEBHOOK_SECRET is not: operator deliveries must be signed');
  if (raw.WEBHOOK_SECRET && operatorUrls.length === 0) throw new ConfigError('WEBHOOK_SECRET is set but WEBHOOK_URLS is not: it signs only the operator endpoints');
  if (raw.WEBHOOK_SECRET && raw.WEBHOOK_SECRET.length < 24) throw new ConfigError('WEBHOOK_SECRET must be at least 24 characters');
  const backoffBaseMs = raw.WEBHOOK_BACKOFF_BASE ? parseDuration('WEBHOOK_BACKOFF_BASE', raw.WEBHOOK_BACKOFF_BASE, 10) : 10_000;
  const backoffMaxMs = raw.WEBHOOK_BACKOFF_MAX ? parseDuration('WEBHOOK_BACKOFF_MAX', raw.WEBHOOK_BACKOFF_MAX, 10) : 3_600_000;
  if (backoffMaxMs < backoffBaseMs) throw new ConfigError('WEBHOOK_BACKOFF_MAX must be at least WEBHOOK_BACKOFF_BASE');
  return {
    operatorUrls,
    ...(raw.WEBHOOK_SECRET && { operatorSecret: raw.WEBHOOK_SECRET }),
    allowPrivate: raw.WEBHOOK_ALLOW_PRIVATE ? parseBoolean('WEBHOOK_ALLOW_PRIVATE', raw.WEBHOOK_ALLOW_PRIVATE) : false,
    timeoutMs: raw.WEBHOOK_TIMEOUT ? parseDuration('WEBHOOK_TIMEOUT', raw.WEBHOOK_TIMEOUT, 100) : 10_000,
    retryForMs: raw.WEBHOOK_RETRY_FOR ? parseDuration('WEBHOOK_RETRY_FOR', raw.WEBHOOK_RETRY_FOR, 1000) : 86_400_000,
    backoffBaseMs,
    backoffMaxMs,
    concurrency: raw.WEBHOOK_CONCURRENCY ? parseInteger('WEBHOOK_CONCURRENCY', raw.WEBHOOK_CONCURRENCY, 1, 256) : 8,
    pollIntervalMs: raw.WEBHOOK_POLL_INTERVAL ? parseDuration('WEBHOOK_POLL_INTERVAL', raw.WEBHOOK_POLL_INTERVAL, 50) : 1000,
  };
}
