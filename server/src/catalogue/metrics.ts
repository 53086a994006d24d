import { Gauge, type Registry } from 'prom-client';
import type { Catalogue, TenantUsage } from './types.js';

/** Tenants reported by name; the others are summed under {@link OTHER}, so the label set stays bounded. */
export const TOP_TENANTS = 20;
/** Label of the tenants beyond the top ones, and of files without a tenant (auth off, or no tenant claim). */
export const OTHER = '(other)';
export const NO_TENANT = '(none)';
/** A scrape reuses figures this young instead of asking the database again. */
const CACHE_MS = 15_000;

/**
 * `tus_catalogue_tenant_bytes{tenant}` (bytes stored, deduplicated content once) and
 * `tus_catalogue_tenant_files{tenant}`, for the {@link TOP_TENANTS} largest tenants and `(other)`,
 * read from the catalogue at scrape time (at most every 15 s). A failed read leaves the last figures.
 */
export function watchCatalogueUsage(registry: Registry, catalogue: Pick<Catalogue, 'usageByTenant'>, top = TOP_TENANTS): void {
  let cached: { at: number; usage: TenantUsage } | undefined;
  let reading: Promise<TenantUsage> | undefined;
  const read = async (): Promise<TenantUsage | undefined> => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.usage;
    reading ??= catalogue.usageByTenant(top).finally(() => (reading = undefined));
    try {
      const usage = await reading;
      cached = { at: Date.now(), usage };
      return usage;
    } catch {
      return cached?.usage;
    }
  };
  const fill = (gauge: Gauge<'tenant'>, usage: TenantUsage | undefined, pick: (u: { files: number; bytes: number }) => number) => {
    if (!usage) return;
    gauge.reset();
    for (const t of usage.top) gauge.set({ tenant: t.tenant || NO_TENANT }, pick(t));
    gauge.set({ tenant: OTHER }, pick(usage.other));
  };
  const bytes: Gauge<'tenant'> = new Gauge({
    name: 'tus_catalogue_tenant_bytes',
    help: `Bytes stored in the file catalogue per tenant (deduplicated content once); the ${top} largest tenants, the rest as ${OTHER}`,
    labelNames: ['tenant'],
    registers: [registry],
    collect: async () => fill(bytes, await read(), (u) => u.bytes),
  });
  const files: Gauge<'tenant'> = new Gauge({
    name: 'tus_catalogue_tenant_files',
    help: `Files in the file catalogue per tenant; the ${top} largest tenants by bytes, the rest as ${OTHER}`,
    labelNames: ['tenant'],
    registers: [registry],
    collect: async () => fill(files, await read(), (u) => u.files),
  });
}
