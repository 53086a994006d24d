/**
 * The text an upload yields, stored as `text.json` (and `text.txt`) by the video processor (the
 * transcript) and the documents processor; the generate processor reads it. Each segment keeps its
 * reference: seconds for a transcript, page (PDF), slide (PPTX) or section (DOCX, text, Markdown).
 */
export interface TextSegment {
  text: string;
  /** Transcript: start and end in seconds. */
  start?: number;
  end?: number;
  /** Document: the number of the page, slide or section (1-based), see {@link ExtractedText.unit}. */
  ref?: number;
}

export interface ExtractedText {
  version: 1;
  /** Which processor made it. */
  source: 'video' | 'documents';
  format: 'transcript' | 'pdf' | 'docx' | 'pptx' | 'text' | 'markdown';
  /** What segment references mean: `time` (start/end seconds) or the document unit of `ref`. */
  unit: 'time' | 'page' | 'slide' | 'section';
  segments: TextSegment[];
  /** Characters of text kept. */
  chars: number;
  /** True when the text was cut at `MAX_DOCUMENT_TEXT_BYTES`. */
  truncated: boolean;
  /** Transcript: duration of the media; documents: pages / slides / sections in the source. */
  durationSeconds?: number;
  units?: number;
  /** Transcript: the language the speech API detected. */
  language?: string;
  /** Transcript: whether the media had pictures (`video`) or was sound only (`audio`); absent means video. */
  media?: 'video' | 'audio';
}

export const TEXT_JSON = 'text.json';
export const TEXT_TXT = 'text.txt';

/** Plain text of the segments, one paragraph each. */
export function plainText(text: ExtractedText): string {
  return text.segments.map((s) => s.text.trim()).filter(Boolean).join('\n\n');
}

/**
 * Collects segments up to a byte budget: a segment that crosses it is cut (on a character boundary)
 * and everything after is dropped, with `truncated` set.
 */
export class TextCollector {
  readonly segments: TextSegment[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  /** Adds a segment; returns false once the budget is used up (stop extracting). */
  add(segment: TextSegment): boolean {
    if (this.truncated) return false;
    const size = Buffer.byteLength(segment.text);
    if (this.bytes + size <= this.maxBytes) {
      this.segments.push(segment);
      this.bytes += size;
      return true;
    }
    const room = this.maxBytes - this.bytes;
    if (room > 0) {
      // Cut on a character boundary (TextDecoder drops a partial trailing sequence with stream mode).
      const cut = new TextDecoder().decode(Buffer.from(segment.text).subarray(0, room), { stream: true });
      if (cut) this.segments.push({ ...segment, text: cut });
      this.bytes += Buffer.byteLength(cut);
    }
    this.truncated = true;
    return false;
  }

  get chars(): number {
    return this.segments.reduce((n, s) => n + s.text.length, 0);
  }
}
