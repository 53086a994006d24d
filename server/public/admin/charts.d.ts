// Types of charts.js for the tests that import it in Node (the page loads the .js itself).
export interface SeriesPoint { start: string; jobs: number; failed: number; p50Ms: number | null; p95Ms: number | null }
export interface ProcessingGroup {
  key: string; jobs: number; done: number; failed: number; failureRate: number;
  durationMs: { p50: number; p95: number; p99: number } | null;
  series?: SeriesPoint[];
}
export interface LineModel { d: string; points: Array<{ x: number; y: number; value: number }> }
export interface ChartModel {
  width: number; height: number; key: string; title: string; p50: LineModel; p95: LineModel;
  bars: Array<{ x: number; width: number; y: number; height: number; failedY: number; failedHeight: number; jobs: number; failed: number; start: string }>;
  yTicks: Array<{ y: number; label: string }>; xLabels: Array<{ x: number; label: string; anchor: string }>;
  plot: { left: number; right: number; top: number; bottom: number };
}
export function formatMs(ms: number | null | undefined): string;
export const INTERVAL_MS: { '1h': number; '1d': number };
export function chartModel(group: ProcessingGroup, options?: { width?: number; height?: number; from?: string; to?: string; intervalMs?: number }): ChartModel | null;
export function renderChart(model: ChartModel): SVGSVGElement;
export function renderProcessingCharts(container: Element, analytics: { from?: string; to?: string; interval?: '1h' | '1d'; groups?: ProcessingGroup[] } | null): number;
