/**
 * A real PostgreSQL server (Debian's `postgresql` package) on 127.0.0.1, as a child process we own, with
 * its cluster in a temp dir: initdb with trust authentication, then `postgres` on a random port.
 * initdb and postgres refuse to run as root: as root both run as the `postgres` user (setpriv, so the
 * PID we stop is postgres itself).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startDaemon, type DaemonHandle } from './daemon.js';
import type { ProcessSpec, ServiceOptions } from './process.js';

export interface PostgresHandle extends DaemonHandle {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  /** Creates a fresh database and returns its URL (one per test file keeps suites apart). */
  createDatabase(name: string): Promise<string>;
}

/** The newest `/usr/lib/postgresql/<version>/bin`, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] && path.join(root, versions[0], 'bin');
}

/** How to run a PostgreSQL tool: as the `postgres` user when we are root. */
function asPostgres(command: string, args: string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command, args };
  return { command: 'setpriv', args: ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args] };
}

/**
 * Starts PostgreSQL (small shared buffers, `fsync=off`: test data need not survive a power loss) and
 * waits until it answers a query.
 *
 * @example
 * const postgres = await startPostgres();
 * const url = await postgres.createDatabase('catalogue_test');
 * // ...
 * await postgres.stop();
 */
export async function startPostgres(options: ServiceOptions = {}): Promise<PostgresHandle> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres): run scripts/install-test-deps.sh');
  const daemon = await startDaemon({
    name: 'postgres',
    timeoutMs: options.timeoutMs ?? 60_000,
    process: (port, dir): ProcessSpec => {
      const data = path.join(dir, 'data');
      if (!fs.existsSync(path.join(data, 'PG_VERSION'))) {
        if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
        const initdb = asPostgres(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
        execFileSync(initdb.command, initdb.args, { stdio: 'ignore' });
      }
      const run = asPostgres(path.join(bin, 'postgres'), [
        '-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
        '-c', 'shared_buffers=16MB', '-c', 'max_connections=60', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      ]);
      const logFile = path.join(dir, 'postgres.log');
      if (process.getuid?.() === 0 && !fs.existsSync(logFile)) {
        fs.writeFileSync(logFile, '');
        execFileSync('chown', ['postgres:postgres', logFile]);
      }
      return { name: 'postgres', command: run.command, args: run.args, logFile, cwd: dir };
    },
    ready: (port) => query(`postgres://postgres@127.0.0.1:${port}/postgres`, 'select 1').then(() => true, () => false),
  });
  const url = `postgres://postgres@127.0.0.1:${daemon.port}/postgres`;
  return Object.assign(daemon, {
    url,
    createDatabase: async (name: string) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}" must be lower-case letters, digits and _`);
      await query(url, `create database ${name}`);
      return `postgres://postgres@127.0.0.1:${daemon.port}/${name}`;
    },
  });
}

async function query(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(text);
  } finally {
    await client.end().catch(() => undefined);
  }
}
