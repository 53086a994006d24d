/**
 * `@tus-edge/client-sdk` in Node: tus-js-client's Node build; uploads are remembered in the client's
 * memory (pass `urlStorage`, e.g. tus-js-client's `FileUrlStorage`, to resume across restarts).
 *
 * @example
 * import { createClient } from '@tus-edge/client-sdk';
 * const client = createClient({ endpoint: 'http://127.0.0.1:1080/files/' });
 * const { id } = await client.upload(await fs.readFile('talk.mp4'), { metadata: { filename: 'talk.mp4' } }).done;
 */
import * as tus from 'tus-js-client';
import { createClientIn, type ClientOptions, type Environment, type TusEdgeClient } from './client.js';

export * from './surface.js';

/** Resume store in process memory: pause/resume and retried uploads of one process find their URL. */
class MemoryUrlStorage implements tus.UrlStorage {
  private readonly entries = new Map<string, tus.PreviousUpload & { fingerprint: string }>();
  private next = 0;

  async findAllUploads(): Promise<tus.PreviousUpload[]> {
    return [...this.entries.values()];
  }

  async findUploadsByFingerprint(fingerprint: string): Promise<tus.PreviousUpload[]> {
    return [...this.entries.values()].filter((e) => e.fingerprint === fingerprint);
  }

  async removeUpload(urlStorageKey: string): Promise<void> {
    this.entries.delete(urlStorageKey);
  }

  async addUpload(fingerprint: string, upload: tus.PreviousUpload): Promise<string> {
    const key = `tus-edge::${fingerprint}::${this.next++}`;
    this.entries.set(key, { ...upload, urlStorageKey: key, fingerprint });
    return key;
  }
}

// Each client gets its own store: nothing is shared between clients of one process.
const node: Environment = { tus, online: () => true, urlStorage: () => new MemoryUrlStorage() };

/**
 * Creates a client for one tus-edge deployment.
 * @example
 * const client = createClient({ endpoint: 'http://127.0.0.1:1080/files/', token: process.env.UPLOAD_TOKEN });
 */
export function createClient(options: ClientOptions): TusEdgeClient {
  return createClientIn(node, options);
}
