/**
 * The settings of traces and circuit breakers, shared by the server and the processors (the server
 * validates the processors' configuration from the same environment and reuses these).
 */
import type { BreakerSettings } from '../common/breaker.js';
import type { RedisGuardSettings } from '../common/redis-guard.js';
import { SAMPLER_NAMES, type SamplerName, type TracingConfig } from '../tracing/tracing.js';

/** The raw variables read here (a subset of the package's `RawEnv`). */
export interface ObservabilityEnv {
  OTEL_SDK_DISABLED?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_TRACES_SAMPLER?: string;
  OTEL_TRACES_SAMPLER_ARG?: string;
  OTEL_RESOURCE_ATTRIBUTES?: string;
  CIRCUIT_FAILURES?: string;
  CIRCUIT_WINDOW?: string;
  CIRCUIT_OPEN_FOR?: string;
  REDIS_COMMAND_TIMEOUT?: string;
  REDIS_OFFLINE_QUEUE?: string;
}

type Fail = (message: string) => never;
type Duration = (name: string, value: string) => number;

/** `key=value,key=value` (values percent-decoded, as the OpenTelemetry specification says). */
function parsePairs(name: string, value: string, fail: Fail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) fail(`${name}: "${pair}" is not key=value`);
    try {
      out[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      fail(`${name}: "${pair}" has a malformed percent-encoding`);
    }
  }
  return out;
}

/**
 * Tracing settings, or null (off) without an OTLP endpoint or with `OTEL_SDK_DISABLED=true`.
 * Refuses a sampler argument outside 0..1 and an unknown sampler, naming the variable.
 */
export function parseTracing(raw: ObservabilityEnv, fail: Fail): TracingConfig | null {
  const base = raw.OTEL_EXPORTER_OTLP_ENDPOINT;
  const traces = raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const sampler = (raw.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase() as SamplerName;
  if (!SAMPLER_NAMES.includes(sampler)) fail(`OTEL_TRACES_SAMPLER="${raw.OTEL_TRACES_SAMPLER}" must be one of ${SAMPLER_NAMES.join(', ')}`);
  const ratio = raw.OTEL_TRACES_SAMPLER_ARG === undefined ? 1 : Number(raw.OTEL_TRACES_SAMPLER_ARG);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) fail(`OTEL_TRACES_SAMPLER_ARG="${raw.OTEL_TRACES_SAMPLER_ARG}" must be a ratio from 0 to 1`);
  if (raw.OTEL_TRACES_SAMPLER_ARG !== undefined && !sampler.endsWith('traceidratio')) {
    fail(`OTEL_TRACES_SAMPLER_ARG is set but OTEL_TRACES_SAMPLER="${sampler}" takes no ratio: use traceidratio or parentbased_traceidratio`);
  }
  if (raw.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || (!base && !traces)) return null;
  const url = traces ?? `${base!.replace(/\/+$/, '')}/v1/traces`;
  for (const [name, value] of [['OTEL_EXPORTER_OTLP_ENDPOINT', base], ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces]] as const) {
    if (value !== undefined && !/^https?:\/\/[^\s]+$/.test(value)) fail(`${name}="${value}" must be an http(s) URL (OTLP over HTTP)`);
  }
  return {
    url,
    headers: raw.OTEL_EXPORTER_OTLP_HEADERS ? parsePairs('OTEL_EXPORTER_OTLP_HEADERS', raw.OTEL_EXPORTER_OTLP_HEADERS, fail) : {},
    serviceName: raw.OTEL_SERVICE_NAME,
    sampler,
    ratio,
    resourceAttributes: raw.OTEL_RESOURCE_ATTRIBUTES ? parsePairs('OTEL_RESOURCE_ATTRIBUTES', raw.OTEL_RESOURCE_ATTRIBUTES, fail) : {},
  };
}

/** Breaker settings: `CIRCUIT_FAILURES` (default 5, 1..1000), `CIRCUIT_WINDOW` (30s), `CIRCUIT_OPEN_FOR` (15s, at least 100ms). */
export function parseBreakers(raw: ObservabilityEnv, duration: Duration, fail: Fail): BreakerSettings {
  const failures = raw.CIRCUIT_FAILURES === undefined ? 5 : Number(raw.CIRCUIT_FAILURES);
  if (!Number.isInteger(failures) || failures < 1 || failures > 1000) fail(`CIRCUIT_FAILURES="${raw.CIRCUIT_FAILURES}" must be an integer from 1 to 1000`);
  const windowMs = raw.CIRCUIT_WINDOW ? duration('CIRCUIT_WINDOW', raw.CIRCUIT_WINDOW) : 30_000;
  const openMs = raw.CIRCUIT_OPEN_FOR ? duration('CIRCUIT_OPEN_FOR', raw.CIRCUIT_OPEN_FOR) : 15_000;
  if (openMs < 100) fail('CIRCUIT_OPEN_FOR must be at least 100ms');
  if (windowMs < 100) fail('CIRCUIT_WINDOW must be at least 100ms');
  return { failureThreshold: failures, windowMs, openMs };
}

/**
 * Bounds of every Redis command: `REDIS_COMMAND_TIMEOUT` (default 2s, 50ms..60s) and
 * `REDIS_OFFLINE_QUEUE` (commands waiting for a lost connection, default 1000, 1..100000).
 */
export function parseRedisGuard(raw: ObservabilityEnv, duration: Duration, fail: Fail): RedisGuardSettings {
  const commandTimeoutMs = raw.REDIS_COMMAND_TIMEOUT ? duration('REDIS_COMMAND_TIMEOUT', raw.REDIS_COMMAND_TIMEOUT) : 2000;
  if (commandTimeoutMs < 50 || commandTimeoutMs > 60_000) fail('REDIS_COMMAND_TIMEOUT must be from 50ms to 60s');
  const offlineQueueMax = raw.REDIS_OFFLINE_QUEUE === undefined ? 1000 : Number(raw.REDIS_OFFLINE_QUEUE);
  if (!Number.isInteger(offlineQueueMax) || offlineQueueMax < 1 || offlineQueueMax > 100_000) fail(`REDIS_OFFLINE_QUEUE="${raw.REDIS_OFFLINE_QUEUE}" must be an integer from 1 to 100000`);
  return { commandTimeoutMs, offlineQueueMax };
}
