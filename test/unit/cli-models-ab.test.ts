/** `shoplake models ab`: argument parsing and rendering (the commands run end to end in test/integration/reco-ab.test.ts). */
import { describe, expect, it } from 'vitest';
import {
  defaultExperimentName,
  InvalidSplitError,
  parseSplit,
  renderAbStatus,
  renderRegistry,
} from '../../local/cli/commands/models.ts';

const experiment = {
  name: 'exp-1',
  control: 'v1',
  treatment: 'v2',
  split: 0.25,
  started_at: '2026-12-04T23:00:00Z',
};

describe('shoplake models ab', () => {
  it('takes a split strictly between 0 and 1', () => {
    expect(parseSplit('0.25')).toBe(0.25);
    for (const bad of ['0', '1', '-0.1', '1.5', 'half', '', 'NaN']) {
      expect(() => parseSplit(bad)).toThrow(InvalidSplitError);
    }
  });

  it('names an experiment by its start time, as an id', () => {
    expect(defaultExperimentName(new Date('2026-12-04T23:05:06.789Z'))).toBe('ab-20261204T230506Z');
  });

  it('shows the running test under the registry and says when none has run', () => {
    const entry = {
      version: 'v1',
      status: 'active' as const,
      model: 'ranker',
      params: {},
      metrics: {},
      snapshots: {},
      trained_at: '2026-12-04T22:00:00Z',
      interactions: 10,
      users: 2,
      items: 3,
    };
    expect(renderRegistry([entry], 'v1', experiment)).toContain(
      'A/B test exp-1 running: A v1, B v2 (25.00% of shoppers)',
    );
    expect(renderRegistry([entry], 'v1')).not.toContain('A/B test');
    expect(renderAbStatus({ version: 'v1', previous: null, activated_at: '' }, undefined, [])).toBe(
      'no A/B test has run (active model: v1)',
    );
    const pointer = { version: 'v1', previous: null, activated_at: '', experiment };
    const text = renderAbStatus(pointer, experiment, []);
    expect(text).toContain('A/B test exp-1: running since 2026-12-04T23:00:00Z');
    expect(text).toContain('A (control)   v1  75.00% of shoppers');
    expect(text).toContain('no impressions in gold yet');
  });
});
