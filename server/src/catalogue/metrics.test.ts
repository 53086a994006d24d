import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createCatalogue } from './index.js';
import { watchCatalogueUsage } from './metrics.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalogue-metrics-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('catalogue usage gauges', () => {
  it('name the largest tenants and sum the rest, so the label set stays bounded', async () => {
    const catalogue = createCatalogue({ kind: 'sqlite', file: path.join(dir, 'c.db') });
    await catalogue.migrate();
    const at = new Date().toISOString();
    let i = 0;
    for (const [tenant, size] of [['a', 300], ['b', 200], ['c', 100], ['', 50], ['d', 1]] as const) {
      await catalogue.ingest({ uploadId: `u${i++}`, tenant, owner: 'o', name: 'n', key: null, mediaType: null, size, metadata: {}, tags: [], createdAt: at, finishedAt: at });
    }
    const registry = new Registry();
    watchCatalogueUsage(registry, catalogue, 2);
    const text = await registry.metrics();
    expect(text).toContain('tus_catalogue_tenant_bytes{tenant="a"} 300');
    expect(text).toContain('tus_catalogue_tenant_bytes{tenant="b"} 200');
    expect(text).toContain('tus_catalogue_tenant_bytes{tenant="(other)"} 151');
    expect(text).toContain('tus_catalogue_tenant_files{tenant="(other)"} 3');
    expect(text).not.toContain('tenant="c"');
    await catalogue.close();
  });
});
