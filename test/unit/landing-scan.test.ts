/**
 * The landing loader's oversized-line scan (`hasLineLongerThan`) against a naive split, on
 * random files with chunk boundaries everywhere: a wrong answer would either let an oversized
 * record through or send every load down the slow path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasLineLongerThan } from '../../local/sfn/landing.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoplake-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function naive(text: string, max: number): boolean {
  return text.split('\n').some((l) => Buffer.byteLength(l) > max);
}

let seed = 7;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

describe('hasLineLongerThan', () => {
  it('agrees with a naive split on 400 random files, chunk sizes 1-23, limits 1-12', async () => {
    for (let i = 0; i < 400; i++) {
      const lines = Array.from({ length: Math.floor(random() * 8) }, () =>
        'x'.repeat(Math.floor(random() * 14)),
      );
      const text = lines.join('\n') + (random() < 0.5 ? '\n' : '');
      const file = join(dir, `f${i}.jsonl`);
      writeFileSync(file, text);
      const max = 1 + Math.floor(random() * 12);
      const chunk = 1 + Math.floor(random() * 23);
      expect(
        await hasLineLongerThan(file, max, chunk),
        `${JSON.stringify(text)} max ${max} chunk ${chunk}`,
      ).toBe(naive(text, max));
    }
  });
});
