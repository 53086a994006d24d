/**
 * `@tus-edge/testkit/contracts`: contract suites shared by the packages' tests. A separate entry point
 * because they import vitest, which only a test run provides.
 */
export { eventPublisherContract, type PublisherHarness } from './pipeline/publisher.contract.js';
