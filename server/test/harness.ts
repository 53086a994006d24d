/**
 * Starts the real server in this process, on 127.0.0.1 with a random port and a fresh temp DATA_DIR,
 * for the server's integration tests. Child-process servers and the backing services are in
 * `@tus-edge/testkit`.
 */
import fsp from 'node:fs/promises';
import { tempDir } from '@tus-edge/testkit';
import { parseConfig } from '../src/config/config.js';
import type { RawEnv } from '../src/config/config.js';
import type { Overrides } from '../src/context.js';
import { startServer, type RunningServer } from '../src/server.js';

export { freePort, MAIN_JS, REPO_ROOT, spawnServer, tempDir, type SpawnedServer } from '@tus-edge/testkit';

export interface TestServer extends RunningServer {
  /** `${url}/files` */
  tusUrl: string;
  dataDir: string;
  /** Stops the server and deletes its DATA_DIR. */
  close(): Promise<void>;
}

/** Starts the server in this process. `env` uses the same names as the real environment. */
export async function startTestServer(env: RawEnv = {}, overrides: Overrides = {}): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? (await tempDir());
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_TIMEOUT_MS: '2000', ...env, DATA_DIR: dataDir });
  const running = await startServer(config, overrides);
  return {
    ...running,
    tusUrl: `${running.url}${config.tusPath}`,
    dataDir,
    close: async () => {
      await running.stop();
      if (!env.DATA_DIR) await fsp.rm(dataDir, { recursive: true, force: true });
    },
  };
}

