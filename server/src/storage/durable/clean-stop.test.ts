/**
 * The server's context with the background flush (file storage, FSYNC=true; an interval long enough
 * that no round runs by itself during the test): closing it flushes what was written since the last
 * round, so a reboot right after a clean stop cuts nothing back.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { tempDir } from '../../../test/harness.js';
import { parseConfig } from '../../config/config.js';
import { buildContext } from '../../context.js';
import { JOURNAL_NAME } from './background-flush.js';

it('a clean stop flushes every acknowledged byte and records it in DATA_DIR/durable', async () => {
  const dataDir = await tempDir();
  const ctx = buildContext(parseConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PROCESSORS_IN_PROCESS: 'false', FSYNC_INTERVAL: '60s' }));
  const data = randomBytes(100_000);
  await ctx.storage.create('u1', { length: 200_000 });
  await ctx.storage.write('u1', 0, Readable.from([data]), { limit: data.length, expected: data.length });
  // No round has run: only the creation entry (watermark 0) is in the log.
  const journal = path.join(dataDir, 'durable', JOURNAL_NAME);
  expect(fs.readFileSync(journal, 'utf8')).not.toContain('u1 100000');
  await ctx.close();
  expect(fs.readFileSync(journal, 'utf8')).toContain('u1 100000\n');
  expect(fs.existsSync(path.join(dataDir, 'uploads', '.watermarks'))).toBe(false);
});
