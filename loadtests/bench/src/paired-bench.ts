/** `npm run bench:paired`: only the paired part of the benchmark (paired.ts). */
import { pairedConfig, startPaired } from './paired.js';
import { runParts } from './run-parts.js';

const cfg = pairedConfig();
await runParts([{ name: 'paired', start: () => startPaired(cfg) }]);
