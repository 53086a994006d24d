#!/usr/bin/env node
// Fails when folders of a package import each other in a cycle. A node is a top-level folder under a
// package's src/ (a file directly in src/ is a node of its own); an edge is a relative import
// (static or dynamic) from a shipped module, i.e. not a test or contract suite. Prints each cycle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['server/src', 'processors/src', 'client-sdk/src', 'tests/kit/src', 'loadtests/bench/src'];
const IMPORT = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function* sources(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (/\.ts$/.test(entry.name) && !/\.(test|contract)\.ts$|\.d\.ts$/.test(entry.name)) yield file;
  }
}

/** `tus` for src/tus/handlers/post.ts, `context.ts` for src/context.ts. */
const nodeOf = (src, file) => path.relative(src, file).split(path.sep)[0];

/** Strongly connected components with more than one node (Tarjan). */
function cycles(graph) {
  let index = 0;
  const stack = [], onStack = new Set(), idx = new Map(), low = new Map(), found = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) found.push(scc);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

let failed = 0;
for (const pkg of PACKAGES) {
  const src = path.join(ROOT, pkg);
  if (!fs.existsSync(src)) continue;
  const graph = new Map();
  const why = new Map();
  for (const file of sources(src)) {
    const from = nodeOf(src, file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const m of fs.readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), (m[1] ?? m[2]).replace(/\.js$/, '.ts'));
      if (!target.startsWith(src + path.sep)) continue;
      const to = nodeOf(src, target);
      if (to === from) continue;
      graph.get(from).add(to);
      const key = `${from} -> ${to}`;
      if (!why.has(key)) why.set(key, `${path.relative(ROOT, file)} imports ${m[1] ?? m[2]}`);
    }
  }
  for (const scc of cycles(graph)) {
    failed++;
    console.log(`${pkg}: import cycle between ${scc.sort().join(', ')}`);
    for (const [key, example] of why) {
      const [a, b] = key.split(' -> ');
      if (scc.includes(a) && scc.includes(b)) console.log(`  ${key}: ${example}`);
    }
  }
}
if (failed) process.exit(1);
console.log(`no import cycle between folders of ${PACKAGES.join(', ')}`);
