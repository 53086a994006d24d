// Prints "N passed, N failed" from vitest's JSON report and exits non-zero when anything failed,
// when the report is missing, or when no test ran at all.
import fs from 'node:fs';

const [report, vitestStatus] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = (json.numFailedTests ?? 0) + (json.numRuntimeErrorTestSuites ?? 0);
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  for (const suite of json.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
} catch (err) {
  console.log(`could not read the vitest report (${err.message})`);
  failed += 1;
}
if (Number(vitestStatus) !== 0 && failed === 0) failed = 1;
if (passed + failed === 0) failed = 1;
console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
