/**
 * The interop versions of "Resumable Uploads for HTTP" (draft-ietf-httpbis-resumable-upload) this
 * server serves, and what differs between them. A request speaks the draft when it carries
 * `Upload-Draft-Interop-Version` and no `Tus-Resumable`.
 *
 * | interop | drafts     | clients                                             |
 * |---------|------------|-----------------------------------------------------|
 * | 3       | -01        | URLSession on iOS 17 / macOS 14 (`Upload-Incomplete`) |
 * | 4       | -02        | (`Upload-Complete` replaces `Upload-Incomplete`)    |
 * | 5       | -03        | tus-js-client `ietf-draft-03`, URLSession iOS 18.0  |
 * | 6       | -04, -05   | tus-js-client `ietf-draft-05`, URLSession iOS 18.1+ |
 * | 7       | -06 to -08 |                                                     |
 * | 8       | -09 to -12 | the current drafts                                  |
 */

/** The request header naming the client's interop version. */
export const INTEROP_HEADER = 'upload-draft-interop-version';

/** The media type of an append from interop 6 on (draft -04: "Require application/partial-upload for appending"). */
export const PARTIAL_UPLOAD_TYPE = 'application/partial-upload';

/** What one interop version looks like on the wire. */
export interface Interop {
  version: number;
  /** `Upload-Incomplete` (interop 3, the inverse) or `Upload-Complete` (4 and later). */
  completeField: 'Upload-Complete' | 'Upload-Incomplete';
  /** 104 interim responses carrying `Upload-Offset` while a body is read (draft -03: "Add upload progress notifications via informational responses"). */
  progress: boolean;
  /** Appends must be `application/partial-upload`; earlier versions name no media type. */
  partialUploadType: boolean;
  /** `mismatching-upload-offset` and `completed-upload` problem types (draft -04). */
  problems: boolean;
  /** The `inconsistent-upload-length` problem type (draft -06). */
  inconsistentLengthProblem: boolean;
  /** `Upload-Limit`, with the lifetime called `expires` (drafts -04, -05) or `max-age` (-06 on); none before. */
  limits: 'none' | 'expires' | 'max-age';
  /** `Upload-Length` in responses (draft -05; accepted in requests of every version, as tus-js-client sends it). */
  lengthField: boolean;
}

const TABLE: Record<number, Interop> = Object.fromEntries(
  [3, 4, 5, 6, 7, 8].map((version) => [
    version,
    {
      version,
      completeField: version === 3 ? 'Upload-Incomplete' : 'Upload-Complete',
      progress: version >= 5,
      partialUploadType: version >= 6,
      problems: version >= 6,
      inconsistentLengthProblem: version >= 7,
      limits: version >= 7 ? 'max-age' : version === 6 ? 'expires' : 'none',
      lengthField: version >= 6,
    } satisfies Interop,
  ]),
);

/** Every interop version served, oldest first. */
export const SERVED_VERSIONS: readonly number[] = Object.keys(TABLE).map(Number);

/** The interop version a header value names, or undefined when it is not one this server serves. */
export function interopOf(value: string | undefined): Interop | undefined {
  const trimmed = value?.trim() ?? '';
  return /^\d{1,3}$/.test(trimmed) ? TABLE[Number(trimmed)] : undefined;
}

/** The newest version: what a request without the header (OPTIONS discovery) is answered in. */
export const LATEST: Interop = TABLE[Math.max(...SERVED_VERSIONS)];
