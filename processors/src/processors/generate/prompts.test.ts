import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@tus-edge/testkit';
import { parseTemplate, PromptLibrary, render } from './prompts.js';

const file = (front: string, body: string) => `---\n${front}\n---\n${body}`;

describe('prompt templates', () => {
  it('every shipped template parses, and study / system are what generation used before versions', async () => {
    const library = await PromptLibrary.load();
    expect(library.all().map((t) => t.ref).sort()).toEqual(expect.arrayContaining(['chunk@1', 'combine@1', 'quiz@1', 'study@1', 'style@1', 'system@1']));
    expect(library.resolve('study', 'study').combine).toBe('combine');
    expect(render(library.resolve('system', 'system'), {})).toMatch(/^You write study material/);
  });

  it('resolves a name to its latest version and name@version to that one, checking the use', async () => {
    const dir = await tempDir();
    try {
      await fs.writeFile(path.join(dir, 'quiz@1.md'), file('use: study\nvariables: text', 'one {{text}}'));
      await fs.writeFile(path.join(dir, 'quiz@2.md'), file('use: study\nvariables: text', 'two {{text}}'));
      const library = await PromptLibrary.load(dir);
      expect(library.resolve('quiz', 'study').ref).toBe('quiz@2');
      expect(render(library.resolve('quiz@1', 'study'), { text: 'x' })).toBe('one x');
      expect(library.find('quiz@3')).toBeUndefined();
      expect(library.find('quiz', 'system')).toBeUndefined();
      expect(library.find('../etc')).toBeUndefined();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file whose placeholders and declared variables differ, or without front matter', () => {
    expect(() => parseTemplate('a@1.md', file('use: study\nvariables: text', '{{text}} {{other}}'))).toThrow(/not in variables: other/);
    expect(() => parseTemplate('a@1.md', file('use: study\nvariables: text, extra', '{{text}}'))).toThrow(/does not use: extra/);
    expect(() => parseTemplate('a@1.md', 'no front matter {{text}}')).toThrow(/front matter/);
    expect(() => parseTemplate('a.md', file('use: study\nvariables:', 'x'))).toThrow(/<name>@<version>/);
    expect(() => parseTemplate('a@1.md', file('use: poem\nvariables:', 'x'))).toThrow(/use must be/);
    expect(() => render(parseTemplate('a@1.md', file('use: study\nvariables: text', '{{text}}')), {})).toThrow(/no value/);
  });
});
