/**
 * Prometheus config and rules with Debian's promtool (check config, check rules, test rules), and the
 * shape of the Grafana dashboard. That every expression returns data is live-metrics.test.ts.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertMeasure, dashboardExpressions, DEPLOY, readText, rules, run, yamlDocuments } from './helpers.js';

const ALERTS = ['TusHighErrorRate', 'TusSlowResponses', 'TusUploadSuccessRateLow', 'TusStagingDiskLow', 'ProcessorConsumerLagGrowing', 'ProcessorDeadLetters', 'TusNodeNotReady'];

describe('Prometheus', () => {
  it('promtool accepts the scrape config and the rules', async () => {
    const config = await run('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml']);
    expect(config.stdout).toMatch(/SUCCESS: deploy\/prometheus\/prometheus.yml is valid/);
    const checked = await run('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yml']);
    expect(checked.stdout).toMatch(new RegExp(`SUCCESS: ${rules().length} rules found`));
  });

  it('has the alerts of the issue, each "<measure> <comparison> <threshold>" with a runbook entry', () => {
    const alerts = rules().filter((r) => r.alert);
    expect(alerts.map((a) => a.alert).sort()).toEqual([...ALERTS].sort());
    const readme = readText('deploy/README.md');
    for (const a of alerts) {
      expect(() => alertMeasure(a.expr)).not.toThrow();
      expect(a.annotations?.runbook).toBe(`deploy/README.md#${a.alert!.toLowerCase()}`);
      expect(readme).toMatch(new RegExp(`^### ${a.alert}$`, 'm'));
    }
  });

  it('promtool test rules: every alert has a case where it fires and one where it stays quiet, and all pass', async () => {
    const [tests] = yamlDocuments<{ tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] }>(readText('deploy/prometheus/alerts.test.yml'));
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of ALERTS) {
      expect(cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0), `${alert} fires somewhere`).toBe(true);
      expect(cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0), `${alert} is quiet somewhere`).toBe(true);
    }
    const { stdout } = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: path.join(DEPLOY, 'prometheus') });
    expect(stdout).toMatch(/SUCCESS/);
  });
});

describe('Grafana dashboard', () => {
  it('has the panels the issue asks for, each with a query', () => {
    const panels = new Map<string, string[]>();
    for (const { panel, expr } of dashboardExpressions()) panels.set(panel, [...(panels.get(panel) ?? []), expr]);
    const wanted: Record<string, RegExp> = {
      'Active workers': /processor_workers/,
      'Queue depth (waiting to start)': /processor_jobs_pending/,
      'Processing time p95 by kind': /processor_processing_seconds_bucket/,
      'Memory (RSS)': /process_resident_memory_bytes/,
      'Upload throughput': /tus_bytes_received_total/,
      'Upload success rate (1 h)': /tus:upload_success_ratio/,
      'PATCH latency p50 / p99': /tus:patch_duration_seconds:p99_5m/,
      'In-progress uploads per node': /tus_uploads_in_progress/,
      'Errors by code': /tus_errors_total/,
      'S3 retries': /tus_s3_retries_total/,
      'Lock handovers': /tus_lock_handovers_total/,
      'Abandoned uploads (24 h)': /tus_uploads_expired_total/,
      'Historical processing volume (jobs done per day)': /processor_jobs_total\{outcome="done"\}\[1d\]/,
    };
    for (const [title, pattern] of Object.entries(wanted)) {
      expect(panels.get(title), title).toBeDefined();
      expect(panels.get(title)!.join('\n')).toMatch(pattern);
    }
  });
});
