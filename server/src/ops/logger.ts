/**
 * Structured JSON logs: one line per entry on stdout, with a request id on request logs. The server
 * and the processor runtime it may host share one implementation (the runtime's package is the lower
 * layer), so their lines look alike and a logger can be handed from one to the other.
 */
export { createLogger, type LogFields, type Logger } from '@tus-edge/processors';
