import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { TEMPLATE_REF } from '../../jobs/options.js';

/** `processors/prompts/` (the same path from `src/` and from `dist/`). */
export const PROMPTS_DIR = fileURLToPath(new URL('../../../prompts/', import.meta.url));

const FILE_NAME = /^([a-z][a-z0-9-]{0,40})@([1-9]\d{0,3})\.md$/;
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** What a template is used as (its front-matter `use`). */
export type TemplateUse = 'system' | 'style' | 'study' | 'chunk' | 'combine';
const USES: readonly TemplateUse[] = ['system', 'style', 'study', 'chunk', 'combine'];

/** One versioned prompt file, `<name>@<version>.md`, front matter parsed. */
export interface PromptTemplate {
  name: string;
  version: number;
  /** `name@version`: what results record. */
  ref: string;
  use: TemplateUse;
  /** The placeholders the body uses, as its front matter names them (checked at load). */
  variables: string[];
  /** For a `study` template: the `combine` template used when the text is read in parts (default `combine`). */
  combine?: string;
  description?: string;
  body: string;
}

/**
 * Parses `---\nkey: value\n---\n<body>`: keys `use`, `variables` (comma-separated), `combine`,
 * `description`. The body's placeholders must be exactly the declared variables, so a template and
 * the code that fills it cannot drift apart unnoticed.
 */
export function parseTemplate(fileName: string, content: string): PromptTemplate {
  const named = FILE_NAME.exec(fileName);
  if (!named) throw new Error(`prompt file ${fileName}: the name must be <name>@<version>.md`);
  const fail = (what: string): never => {
    throw new Error(`prompt file ${fileName}: ${what}`);
  };
  const match = /^---\n([\s\S]*?)\n---\n/.exec(content);
  if (!match) return fail('front matter (---\\nuse: …\\nvariables: …\\n---) missing');
  const meta: Record<string, string> = {};
  for (const line of match[1].split('\n')) {
    const at = line.indexOf(':');
    if (at < 1) fail(`front matter line "${line}" is not "key: value"`);
    meta[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const use = meta.use as TemplateUse;
  if (!USES.includes(use)) fail(`use must be one of ${USES.join(', ')}`);
  const variables = (meta.variables ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  const body = content.slice(match[0].length);
  const used = new Set([...body.matchAll(PLACEHOLDER)].map((m) => m[1]));
  const undeclared = [...used].filter((v) => !variables.includes(v));
  const unused = variables.filter((v) => !used.has(v));
  if (undeclared.length > 0) fail(`placeholders not in variables: ${undeclared.join(', ')}`);
  if (unused.length > 0) fail(`variables the body does not use: ${unused.join(', ')}`);
  if (meta.combine !== undefined && !TEMPLATE_REF.test(meta.combine)) fail(`combine "${meta.combine}" is not a template name`);
  const version = Number(named[2]);
  return {
    name: named[1], version, ref: `${named[1]}@${version}`, use, variables, body,
    ...(meta.combine && { combine: meta.combine }), ...(meta.description && { description: meta.description }),
  };
}

/**
 * The prompt templates of a directory, by name and version. `resolve('quiz')` is the latest version,
 * `resolve('quiz@1')` that one. Loaded once; every file is checked at load.
 */
export class PromptLibrary {
  private constructor(private readonly byName: ReadonlyMap<string, PromptTemplate[]>) {}

  /** Reads every `<name>@<version>.md` of `dir` (default `processors/prompts/`). */
  static async load(dir = PROMPTS_DIR): Promise<PromptLibrary> {
    const byName = new Map<string, PromptTemplate[]>();
    for (const file of (await fs.readdir(dir)).filter((f) => f.endsWith('.md')).sort()) {
      const t = parseTemplate(file, await fs.readFile(path.join(dir, file), 'utf8'));
      byName.set(t.name, [...(byName.get(t.name) ?? []), t].sort((a, b) => a.version - b.version));
    }
    return new PromptLibrary(byName);
  }

  /** The template `ref` names, or undefined. `use` also requires what it is used as. */
  find(ref: string, use?: TemplateUse): PromptTemplate | undefined {
    if (!TEMPLATE_REF.test(ref)) return undefined;
    const [name, version] = ref.split('@');
    const versions = this.byName.get(name) ?? [];
    const found = version === undefined ? versions.at(-1) : versions.find((t) => t.version === Number(version));
    return found && (!use || found.use === use) ? found : undefined;
  }

  /** Like {@link find}, but throws a message naming what is missing. */
  resolve(ref: string, use: TemplateUse): PromptTemplate {
    const found = this.find(ref, use);
    if (!found) throw new Error(`no ${use} prompt template "${ref}" in ${PROMPTS_DIR}`);
    return found;
  }

  /** Every template, oldest version first (for documentation and listings). */
  all(): PromptTemplate[] {
    return [...this.byName.values()].flat();
  }
}

/**
 * Fills `{{name}}` placeholders. A placeholder without a value is an error (a template and its caller
 * out of step should fail loudly, not send `{{text}}` to the model).
 */
export function render(template: PromptTemplate | string, values: Record<string, string | number>): string {
  const body = typeof template === 'string' ? template : template.body;
  return body.replace(PLACEHOLDER, (_, key: string) => {
    if (!(key in values)) throw new Error(`prompt placeholder {{${key}}} has no value`);
    return String(values[key]);
  });
}
