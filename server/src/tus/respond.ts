import { baseResponse } from '../http/respond.js';

/** A tus response: every one carries `Tus-Resumable` (see {@link baseResponse}). */
export function tusResponse(status: number, headers: Record<string, string> = {}, body: string | null = null): Response {
  return baseResponse(status, headers, body);
}
