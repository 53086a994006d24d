/** Where the bytes of a finished upload live. */
export type UploadLocation =
  | { kind: 'file'; path: string }
  | { kind: 's3'; bucket: string; key: string };

/**
 * Versioned payload published once per finished upload (`uploads.completed`). Publishing the same
 * event twice is harmless: consumers deduplicate by `eventId`, which is derived from the upload id.
 */
export interface UploadCompletedEvent {
  version: 1;
  type: 'uploads.completed';
  eventId: string;
  uploadId: string;
  size: number;
  metadata: Record<string, string | null>;
  location: UploadLocation;
  completedAt: string;
  node: string;
}
