import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

describe('tracing and breaker settings', () => {
  it('tracing is off without an OTLP endpoint, and by OTEL_SDK_DISABLED', () => {
    expect(parseConfig({}).tracing).toBeNull();
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeNull();
  });

  it('reads the standard OTEL_* variables', () => {
    const t = parseConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20x,team=a',
      OTEL_SERVICE_NAME: 'edge',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
    }).tracing;
    expect(t).toEqual({
      url: 'http://collector:4318/v1/traces',
      headers: { authorization: 'Bearer x', team: 'a' },
      serviceName: 'edge',
      sampler: 'parentbased_traceidratio',
      ratio: 0.01,
      resourceAttributes: { 'deployment.environment': 'prod' },
    });
    expect(parseConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' }).tracing?.url).toBe('http://c:4318/custom');
  });

  it('refuses bad or contradictory values, naming the variable', () => {
    expect(() => parseConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER=/);
    expect(() => parseConfig({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => parseConfig({ OTEL_TRACES_SAMPLER_ARG: '0.5' })).toThrow(/takes no ratio/);
    expect(() => parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://c:4317' })).toThrow(ConfigError);
    expect(() => parseConfig({ CIRCUIT_FAILURES: '0' })).toThrow(/CIRCUIT_FAILURES/);
    expect(() => parseConfig({ CIRCUIT_OPEN_FOR: '10ms' })).toThrow(/CIRCUIT_OPEN_FOR/);
  });

  it('breaker defaults: 5 failures in 30 s open for 15 s', () => {
    expect(parseConfig({}).breakers).toEqual({ failureThreshold: 5, windowMs: 30_000, openMs: 15_000 });
    expect(parseConfig({ CIRCUIT_FAILURES: '2', CIRCUIT_WINDOW: '10s', CIRCUIT_OPEN_FOR: '2s' }).breakers).toEqual({ failureThreshold: 2, windowMs: 10_000, openMs: 2000 });
  });

  it('Redis bounds: 2 s per command and 1000 queued commands by default; out of range refused; postpones 20', () => {
    expect(parseConfig({}).redisGuard).toEqual({ commandTimeoutMs: 2000, offlineQueueMax: 1000 });
    expect(parseConfig({ REDIS_COMMAND_TIMEOUT: '500ms', REDIS_OFFLINE_QUEUE: '10' }).redisGuard).toEqual({ commandTimeoutMs: 500, offlineQueueMax: 10 });
    expect(() => parseConfig({ REDIS_COMMAND_TIMEOUT: '10ms' })).toThrow(/REDIS_COMMAND_TIMEOUT/);
    expect(() => parseConfig({ REDIS_OFFLINE_QUEUE: '0' })).toThrow(/REDIS_OFFLINE_QUEUE/);
    expect(parseConfig({}).maxPostpones).toBe(20);
    expect(parseConfig({ PROCESSOR_MAX_POSTPONES: '0' }).maxPostpones).toBe(0);
    expect(() => parseConfig({ PROCESSOR_MAX_POSTPONES: '-1' })).toThrow(/PROCESSOR_MAX_POSTPONES/);
  });
});
