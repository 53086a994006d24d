import type { ZipReader } from './zip.js';

/** XML parts of OOXML packages are read with this cap each (text parts of real documents are far smaller). */
export const MAX_PART_BYTES = 64 * 1024 * 1024;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the five XML entities and numeric character references. */
export function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return ENTITIES[e.toLowerCase()] ?? '';
  });
}

/** Office document properties (`docProps/core.xml`), the ones present. */
export async function coreProperties(zip: ZipReader): Promise<Record<string, string>> {
  const xml = await zip.text('docProps/core.xml', MAX_PART_BYTES);
  if (!xml) return {};
  const props: Record<string, string> = {};
  const fields: Array<[string, string]> = [
    ['title', 'dc:title'], ['subject', 'dc:subject'], ['author', 'dc:creator'], ['keywords', 'cp:keywords'],
    ['description', 'dc:description'], ['lastModifiedBy', 'cp:lastModifiedBy'], ['created', 'dcterms:created'], ['modified', 'dcterms:modified'],
  ];
  for (const [key, tag] of fields) {
    const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
    const value = m ? decodeXml(m[1]).trim() : '';
    if (value) props[key] = value.slice(0, 500);
  }
  return props;
}
