/**
 * k6 cannot run here, so the load-test scripts are held to what can be checked: they type-check,
 * strictly, against @types/k6 and nothing else (k6 has no Node APIs). scripts.smoke.test.ts runs
 * their code against the real server through a k6 stand-in.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TSCONFIG = path.join(HERE, 'tsconfig.json');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function tsc(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, ...args], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** Diagnostics of a virtual script at loadtests/<name> compiled with the scripts' own tsconfig. */
function diagnosticsOf(name: string, text: string): { line: number; message: string }[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(TSCONFIG, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${TSCONFIG}`);
  const file = path.join(HERE, name);
  const host = ts.createCompilerHost(parsed.options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.readFile = (f) => (f === file ? text : readFile.call(host, f));
  host.getSourceFile = (f, lang, ...rest) =>
    f === file ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
  const program = ts.createProgram({ rootNames: [...parsed.fileNames, file], options: parsed.options, host });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file)
    .map((d) => ({
      line: d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }));
}

describe('k6 load-test scripts', () => {
  it('type-check with `tsc --noEmit -p loadtests/tsconfig.json`', async () => {
    const { code, output } = await tsc('--noEmit', '-p', TSCONFIG);
    expect(code, `tsc failed:\n${output}`).toBe(0);
    expect(output).toBe('');
  });

  it('the Node side (these tests and the k6 stand-in) type-checks with tsconfig.test.json', async () => {
    const { code, output } = await tsc('--noEmit', '-p', path.join(HERE, 'tsconfig.test.json'));
    expect(code, `tsc failed:\n${output}`).toBe(0);
  });

  it('every script and helper is part of that check', async () => {
    const { code, output } = await tsc('--noEmit', '-p', TSCONFIG, '--listFilesOnly');
    expect(code, output).toBe(0);
    const checked = new Set(output.split('\n').map((f) => path.resolve(f.trim())));
    const scripts = fs
      .readdirSync(HERE, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith(`testing${path.sep}`))
      // bench/ is the Node benchmark workspace beside the k6 scripts, checked by its own tsconfig.
      .filter((f) => !f.startsWith(`bench${path.sep}`))
      .map((f) => path.join(HERE, f));
    expect(scripts.length).toBeGreaterThanOrEqual(6);
    expect(scripts.filter((f) => !checked.has(f))).toEqual([]);
    // Only k6's types: a script importing Node would type-check and then fail inside k6.
    expect([...checked].filter((f) => f.includes(`${path.sep}@types${path.sep}node${path.sep}`))).toEqual([]);
  });

  it('rejects k6 API misuse, unchecked undefined and Node imports (the check has teeth)', () => {
    const diagnostics = diagnosticsOf('__virtual_bad_script__.ts', [
      "import http from 'k6/http';",
      "import { headUpload } from './lib/tus.ts';",
      "import fs from 'node:fs';",
      'http.patch(42);',
      "headUpload('http://127.0.0.1:1/files/x').offset.toFixed();",
      'export default function (): void { fs.readFileSync; }',
    ].join('\n'));
    const lines = new Set(diagnostics.map((d) => d.line));
    expect(lines, JSON.stringify(diagnostics, null, 2)).toEqual(new Set([3, 4, 5]));
  });

  it('accepts a correct use of the shared helpers (the virtual-file check itself works)', () => {
    const diagnostics = diagnosticsOf('__virtual_good_script__.ts', [
      "import { createUpload, headUpload } from './lib/tus.ts';",
      'export default function (): void {',
      "  const { url } = createUpload('http://127.0.0.1:1080/files/', 5);",
      '  if (url) headUpload(url).offset?.toFixed();',
      '}',
    ].join('\n'));
    expect(diagnostics).toEqual([]);
  });
});
