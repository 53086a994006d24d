import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** `processors/prompts/` (the same path from `src/` and from `dist/`). */
export const PROMPTS_DIR = fileURLToPath(new URL('../../../prompts/', import.meta.url));

export const TEMPLATE_NAMES = ['system', 'study', 'chunk', 'combine'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type Templates = Record<TemplateName, string>;

/** Reads the prompt templates (`<dir>/<name>.md`). */
export async function loadTemplates(dir = PROMPTS_DIR): Promise<Templates> {
  const entries = await Promise.all(TEMPLATE_NAMES.map(async (name) => [name, await fs.readFile(path.join(dir, `${name}.md`), 'utf8')] as const));
  return Object.fromEntries(entries) as Templates;
}

/**
 * Fills `{{name}}` placeholders. A placeholder without a value is an error (a template and its caller
 * out of step should fail loudly, not send `{{text}}` to the model).
 */
export function render(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`prompt placeholder {{${key}}} has no value`);
    return String(values[key]);
  });
}
