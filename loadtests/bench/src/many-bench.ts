/** `npm run bench:many`: only the many-uploads part of the benchmark (many.ts). */
import { manyConfig, startMany } from './many.js';
import { runParts } from './run-parts.js';

const cfg = manyConfig();
await runParts([{ name: 'many', start: () => startMany(cfg) }]);
