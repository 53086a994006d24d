import { describe, expect, it } from 'vitest';
import { makeEvent } from '@tus-edge/testkit';
import { backoffDelay, chooseLane } from './policy.js';

describe('chooseLane', () => {
  it('metadata priority wins, else small uploads go high', () => {
    expect(chooseLane(makeEvent({ size: 10, metadata: { priority: 'normal' } }), 100)).toBe('normal');
    expect(chooseLane(makeEvent({ size: 1000, metadata: { priority: 'HIGH' } }), 100)).toBe('high');
    expect(chooseLane(makeEvent({ size: 100 }), 100)).toBe('high');
    expect(chooseLane(makeEvent({ size: 101 }), 100)).toBe('normal');
    expect(chooseLane(makeEvent({ size: 1 }), 0)).toBe('normal');
  });

  it('ignores the metadata when told to: only the size decides', () => {
    expect(chooseLane(makeEvent({ size: 1000, metadata: { priority: 'high' } }), 100, false)).toBe('normal');
    expect(chooseLane(makeEvent({ size: 10, metadata: { priority: 'normal' } }), 100, false)).toBe('high');
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt within ±20 % and caps at max', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, policy, () => 0.5)).toBe(100);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelay(3, policy, () => 0)).toBe(320);
    expect(backoffDelay(3, policy, () => 1)).toBe(480);
    expect(backoffDelay(20, policy, () => 1)).toBe(1000);
  });
});
