/**
 * OpenTelemetry traces for the server and the processors: off unless `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; then spans go over OTLP/HTTP (JSON) to it.
 *
 * {@link startTracing} is called once per process by whoever owns it (the server's context, the
 * processors' main): it registers the SDK with the OpenTelemetry API, which is where the API keeps its
 * provider and the active context by design. Code that makes spans uses spans.ts; with tracing
 * off it gets the API's no-op tracer, so the cost is a function call.
 */
import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, type Sampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';

/** Which traces are kept (`OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`). */
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
export const SAMPLER_NAMES: readonly SamplerName[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/** Validated tracing settings; `null` in the config when tracing is off. */
export interface TracingConfig {
  /** Where spans are POSTed: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  url: string;
  /** Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`, `key=value,key=value`). */
  headers: Record<string, string>;
  /** `OTEL_SERVICE_NAME`; default `tus-edge-server` / `tus-edge-processors` per process. */
  serviceName?: string;
  /** `OTEL_TRACES_SAMPLER` (default `parentbased_always_on`). */
  sampler: SamplerName;
  /** Ratio for the `*traceidratio` samplers (`OTEL_TRACES_SAMPLER_ARG`, 0..1, default 1). */
  ratio: number;
  /** `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`), added to every span's resource. */
  resourceAttributes: Record<string, string>;
}

/** The tracing of one process: flush and stop it on shutdown. */
export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

/**
 * Starts the SDK for this process when `config` is set (once per process: a second call while one runs
 * is refused, so an in-process runtime reuses the server's). With `null`, nothing is registered.
 */
export function startTracing(config: TracingConfig | null, defaults: { serviceName: string; nodeName: string }): Tracing {
  if (!config) return { enabled: false, flush: async () => undefined, shutdown: async () => undefined };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      'service.name': config.serviceName ?? defaults.serviceName,
      'service.instance.id': defaults.nodeName,
    }),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.url, headers: config.headers }), { scheduledDelayMillis: 1000 })],
  });
  // Registers the provider, the AsyncLocalStorage context manager and the W3C propagator with the API.
  provider.register({ propagator });
  const unregister = instrumentRedis(provider);
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      unregister();
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.ratio);
  switch (config.sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return ratio;
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio });
  }
}

/**
 * Redis command spans from the official `@opentelemetry/instrumentation-ioredis` (one client span per
 * command, `db.query.text` without values, only inside a traced request or job: `requireParentSpan`).
 * It patches ioredis when ioredis is `require`d; this code base `import`s it (ESM), which the hook does
 * not see without a loader flag, so ioredis is required here once, after registering, and the patch
 * lands on the one class every import shares. Returns what undoes it.
 */
function instrumentRedis(provider: NodeTracerProvider): () => void {
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new IORedisInstrumentation({ requireParentSpan: true })],
  });
  createRequire(import.meta.url)('ioredis');
  return unregister;
}
