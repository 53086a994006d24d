/**
 * Processor runtime entry point. The foundation only defines the job contract that the server's
 * event port produces; the runtime that consumes it arrives with the events issue.
 */
export type { UploadCompletedEvent, UploadLocation } from './events.js';
