/**
 * The container image and the compose stack, checked without a Docker engine: the Dockerfile is parsed
 * (stages, what each runtime target inherits), the compose file is validated by Debian's docker-compose,
 * and the compose nginx config by nginx -t.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY, readText, REPO, run, yamlDocuments } from './helpers.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into global ARGs and stages (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(current + line);
    current = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines.filter(Boolean)) {
    const [, op, rest] = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest.trim())!;
      stages.push({ name: m[2] ?? String(stages.length), from: m[1], instructions: [] });
    } else if (stages.length === 0) {
      if (upper === 'ARG') {
        const [k, v] = rest.split('=');
        args[k.trim()] = (v ?? '').trim();
      }
    } else stages.at(-1)!.instructions.push({ op: upper, args: rest.trim() });
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readText('Dockerfile'));
const stage = (name: string) => dockerfile.stages.find((s) => s.name === name)!;
/** A stage and the stages it is built FROM, base first. */
function chain(name: string): Stage[] {
  const s = stage(name);
  const parent = dockerfile.stages.find((p) => p.name === s.from);
  return parent ? [...chain(parent.name), s] : [s];
}
const all = (name: string, op: string) => chain(name).flatMap((s) => s.instructions.filter((i) => i.op === op));
const last = (name: string, op: string) => all(name, op).at(-1);
const baseImage = (name: string) => chain(name)[0].from.replace(/\$\{(\w+)\}/g, (_, k: string) => dockerfile.args[k] ?? '');

describe('Dockerfile', () => {
  const targets = ['server', 'processors'];

  it('has two runtime targets on one runtime stage; the server is the default (last) stage', () => {
    expect(dockerfile.stages.at(-1)!.name).toBe('server');
    expect(chain('server').map((s) => s.name)).toEqual(['runtime', 'server']);
    expect(chain('processors').map((s) => s.name)).toEqual(['runtime', 'processors']);
  });

  it.each(targets)('%s: Node 22 on Debian, non-root, HEALTHCHECK on /healthz, tini as PID 1, labels', (target) => {
    expect(baseImage(target)).toMatch(/^node:22[.-].*(bookworm|bullseye|trixie)/);
    expect(baseImage('build')).toBe(baseImage(target));
    const user = last(target, 'USER')?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const health = last(target, 'HEALTHCHECK')!.args;
    expect(health).toMatch(/\/healthz/);
    expect(health).toMatch(/--interval=\d+s/);
    expect(last(target, 'ENTRYPOINT')!.args).toMatch(/tini.*--/);
    expect(all(target, 'RUN').some((r) => /apt-get install[^&]*\btini\b/.test(r.args))).toBe(true);
    const labels = all(target, 'LABEL').map((l) => l.args).join(' ');
    for (const key of ['title', 'source', 'version', 'revision']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('runs each target with its own command; ffmpeg only where processors run', () => {
    expect(last('server', 'CMD')!.args).toContain('server/dist/main.js');
    expect(last('processors', 'CMD')!.args).toContain('processors/dist/main.js');
    const ffmpeg = (target: string) => all(target, 'RUN').some((r) => /apt-get install[^&]*\bffmpeg\b/.test(r.args));
    expect(ffmpeg('processors')).toBe(true);
    expect(ffmpeg('server')).toBe(false);
  });

  it('ships production dependencies only (npm ci --omit=dev) of the runtime workspaces, and no tests or tooling', () => {
    const deps = stage('deps');
    const runs = deps.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    expect(runs).toMatch(/npm ci --omit=dev/);
    expect(runs).toContain("p.workspaces=['server','processors','client-sdk']");
    const depsCopies = deps.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(depsCopies).toEqual(['package.json package-lock.json ./', 'server/package.json server/', 'processors/package.json processors/', 'client-sdk/package.json client-sdk/']);

    const copies = chain('server').flatMap((s) => s.instructions.filter((i) => i.op === 'COPY').map((i) => i.args));
    for (const c of copies) expect(c).toMatch(/^--from=(deps|build) /);
    const fromBuild = copies.filter((c) => c.startsWith('--from=build')).map((c) => c.split(/\s+/)[1]);
    expect(fromBuild.sort()).toEqual(['/src/client-sdk/demo', '/src/client-sdk/dist/tus-edge.mjs', '/src/processors/dist', '/src/processors/prompts', '/src/server/dist', '/src/server/public']);
    // Of the SDK workspace only what the server serves: its built bundle and the demo page.
    expect(copies.join(' ')).not.toMatch(/tests\/kit|loadtests|bench|client-sdk\/(src|test|scripts)/);
    const build = stage('build').instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    expect(build).toMatch(/npx tsc -b server processors/);
    expect(build).toMatch(/test -z "\$\(find server\/dist processors\/dist -name '\*\.test\.\*'/);
  });

  it('has a .dockerignore that keeps node_modules, build output, git and env files out of the context', () => {
    const ignore = readText('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', '**/dist', '.git', '**/.env']) expect(ignore).toContain(entry);
  });
});

describe('compose', () => {
  const dir = path.join(DEPLOY, 'compose');

  it('is valid for docker-compose, with every variable it needs named in .env.example', async () => {
    const { stdout } = await run('docker-compose', ['--env-file', '.env.example', '-f', 'docker-compose.yml', 'config'], { cwd: dir });
    const [config] = yamlDocuments<{ services: Record<string, Record<string, any>> }>(stdout);
    const services = config.services;
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'minio', 'minio-init', 'nats', 'nginx', 'postgres', 'processors-documents', 'processors-fingerprint', 'processors-generate', 'processors-video', 'prometheus', 'redis', 'server'].sort(),
    );
    // Scalable: no fixed name or host port on the nodes.
    expect(services.server.container_name).toBeUndefined();
    expect(services.server.ports).toBeUndefined();
    expect(services.server.deploy.replicas).toBe(3);
    expect(services.redis.command.join(' ')).toMatch(/--appendonly yes/);
    // The file catalogue: one PostgreSQL every node shares.
    expect(services.server.environment.DATABASE_URL).toMatch(/^postgres:\/\/tus:.+@postgres:5432\/tus$/);
    expect(services.postgres.volumes.join(' ')).toMatch(/postgres-data:\/var\/lib\/postgresql\/data/);
    expect(services.nats.command.join(' ')).toMatch(/-js .*-m 8222/);
    expect(services['minio-init'].command.join(' ')).toMatch(/mc mb --ignore-existing/);
    const kinds = Object.entries(services).filter(([n]) => n.startsWith('processors-')).map(([n, s]) => [n, s.environment.PROCESSOR_KINDS]);
    for (const [name, kind] of kinds) expect(name).toBe(`processors-${kind}`);
    for (const name of ['server', 'processors-video']) {
      expect(services[name].environment.S3_ENDPOINT).toBe('http://minio:9000');
      expect(services[name].read_only).toBe(true);
    }

    const example = readText('deploy/compose/.env.example');
    const named = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const used = new Set([...readText('deploy/compose/docker-compose.yml').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
    expect([...used].filter((v) => !named.has(v))).toEqual([]);
    for (const secret of ['REDIS_PASSWORD', 'POSTGRES_PASSWORD', 'MINIO_ROOT_PASSWORD', 'OPENAI_API_KEY', 'GRAFANA_ADMIN_PASSWORD']) expect(named).toContain(secret);
  });

  it('fails validation when a required secret is missing', async () => {
    const env = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compose-env-')), '.env');
    fs.writeFileSync(env, readText('deploy/compose/.env.example').replace(/^REDIS_PASSWORD=.*$/m, ''));
    await expect(run('docker-compose', ['--env-file', env, '-f', 'docker-compose.yml', 'config', '-q'], { cwd: dir })).rejects.toThrow(/REDIS_PASSWORD/);
    fs.rmSync(path.dirname(env), { recursive: true, force: true });
  });

  it('puts nginx round-robin in front with streamed bodies, no size cap, long timeouts and no stickiness (nginx -t)', async () => {
    const conf = readText('deploy/compose/nginx/nginx.conf');
    for (const directive of ['client_max_body_size 0;', 'proxy_request_buffering off;', 'proxy_buffering off;', 'proxy_read_timeout 1h;', 'proxy_send_timeout 1h;']) {
      expect(conf).toContain(directive);
    }
    const directives = conf.replace(/#.*$/gm, '');
    expect(directives).not.toMatch(/ip_hash|sticky|hash \$/);
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'nginx-t-'));
    try {
      const { stderr } = await run('/usr/sbin/nginx', ['-t', '-p', prefix, '-c', path.join(DEPLOY, 'compose/nginx/nginx.conf'), '-g', `pid ${prefix}/nginx.pid;`]);
      expect(stderr).toMatch(/test is successful/);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('provisions Grafana with the Prometheus datasource and the dashboard folder', () => {
    const [ds] = yamlDocuments<{ datasources: { type: string; url: string }[] }>(readText('deploy/grafana/provisioning/datasources/prometheus.yml'));
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const [dash] = yamlDocuments<{ providers: { options: { path: string } }[] }>(readText('deploy/grafana/provisioning/dashboards/tus-edge.yml'));
    expect(dash.providers[0].options.path).toBe('/var/lib/grafana/dashboards');
    expect(fs.existsSync(path.join(REPO, 'deploy/grafana/dashboards/tus-edge.json'))).toBe(true);
  });
});
