/**
 * Spans and trace context for code that traces (only the OpenTelemetry API: cheap to import, no-op
 * while {@link startTracing} has not registered an SDK in this process).
 */
import { context, trace, type Context, type Span, type SpanOptions, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const TRACER_NAME = 'tus-edge';
const propagator = new W3CTraceContextPropagator();

/** The tracer of this code base (a no-op one while tracing is off). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** The W3C `traceparent` of the active span (or of `ctx`), or undefined when there is none. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, { set: (c, k, v) => void (c[k] = v) });
  return carrier.traceparent;
}

/** A context whose parent is the span a `traceparent` names (the active context when absent or invalid). */
export function contextFrom(traceparent: string | undefined, base: Context = context.active()): Context {
  if (!traceparent) return base;
  return propagator.extract(base, { traceparent }, { get: (c, k) => c[k as 'traceparent'], keys: (c) => Object.keys(c) });
}

/** The trace id of the active span, for log lines; undefined without one. */
export function activeTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  const id = span?.spanContext().traceId;
  return id && span.isRecording() ? id : undefined;
}

/**
 * Runs `work` in a new active span named `name` (a child of `parent`, default the active context);
 * ends it, and marks it failed with the error when `work` rejects.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>, parent?: Context): Promise<T> {
  return tracer().startActiveSpan(name, options, parent ?? context.active(), async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}
