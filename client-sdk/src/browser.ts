/**
 * `@tus-edge/client-sdk` in browsers (also the bundle served at `/sdk/tus-edge.mjs`): tus-js-client's
 * browser build, uploads remembered in localStorage so they resume after a reload.
 *
 * @example
 * import { createClient } from '/sdk/tus-edge.mjs';
 * const client = createClient({ endpoint: '/files/' });
 * const upload = client.upload(input.files[0], { onProgress: (p) => console.log(p.percent) });
 * const { id } = await upload.done;
 * const status = await client.watchProcessing(id);
 * const results = await client.results(id);
 */
import * as tus from 'tus-js-client';
import { createClientIn, type ClientOptions, type Environment, type TusEdgeClient } from './client.js';

export * from './surface.js';

const browser: Environment = {
  tus,
  online: () => typeof navigator === 'undefined' || navigator.onLine !== false,
  // tus-js-client's browser default: localStorage when it is usable, else nothing.
  urlStorage: () => undefined,
};

/**
 * Creates a client for one tus-edge deployment.
 * @example
 * const client = createClient({ endpoint: 'https://uploads.example.com/files/', token: async () => (await fetch('/token')).text() });
 */
export function createClient(options: ClientOptions): TusEdgeClient {
  return createClientIn(browser, options);
}
