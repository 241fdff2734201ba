/**
 * The dependency list is what the code uses: every package in package.json is imported (or is
 * a tool run by a script, listed below with why), runtime code imports no dev-only package,
 * and the AWS SDK clients and Powertools packages each sit on one version.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Packages used without an `import` in source: tools run by npm scripts, CDK or the test runner. */
const TOOLS: Record<string, string> = {
  '@biomejs/biome': 'formatter/linter (npm run lint)',
  typescript: 'npm run typecheck',
  vitest: 'the test runner',
  'aws-cdk': 'the CDK CLI (npm run synth, cdk deploy, test:localstack)',
  esbuild: 'NodejsFunction bundles the Lambdas with it (infra/constructs/shoplake-function.ts)',
  tsx: 'bin/shoplake.mjs and cdk.json run TypeScript through it',
  '@types/node': 'types',
  '@types/aws-lambda': "types (import type from 'aws-lambda')",
  '@types/cli-progress': 'types',
  '@types/pg': "types of pg (local/oltp/source.ts imports 'pg')",
  '@types/ua-parser-js':
    "types of ua-parser-js 1.x (lambdas/shared/access-log/user-agent.ts imports 'ua-parser-js')",
};

const SOURCE_DIRS = ['bin', 'lambdas', 'local', 'infra', 'test', 'bench', 'scripts', 'clients/web'];
const RUNTIME_DIRS = ['bin', 'lambdas', 'local', 'infra'];

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mts|mjs|js)$/.test(name)) out.push(p);
    }
  };
  walk(join(ROOT, dir));
  return out;
}

/** Package names a file loads at run time: static/dynamic imports, require() and resolve(), not `import type`. */
function runtimeImports(text: string): Set<string> {
  const names = new Set<string>();
  const specifiers = [
    ...text.matchAll(/^\s*import\s+(?!type\s)(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*export\s+(?!type\s)[^'";]*?\sfrom\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
    // createRequire(import.meta.url)('pkg') and createRequire(import.meta.url).resolve('pkg/file')
    ...text.matchAll(/createRequire\([^)]*\)(?:\.resolve)?\(\s*['"]([^'"]+)['"]/g),
  ].map((m) => m[1] ?? '');
  for (const s of specifiers) {
    if (s.startsWith('.') || s.startsWith('node:') || s.startsWith('/')) continue;
    const parts = s.split('/');
    names.add(s.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? s));
  }
  return names;
}

function importsUnder(dirs: string[]): Map<string, string[]> {
  const byPackage = new Map<string, string[]>();
  for (const dir of dirs)
    for (const f of files(dir))
      for (const name of runtimeImports(readFileSync(f, 'utf8')))
        byPackage.set(name, [...(byPackage.get(name) ?? []), relative(ROOT, f)]);
  return byPackage;
}

describe('package.json dependencies', () => {
  const all = { ...pkg.dependencies, ...pkg.devDependencies };
  const used = importsUnder(SOURCE_DIRS);

  it('lists only packages the code imports (or tools with a stated use)', () => {
    const unused = Object.keys(all).filter((name) => !used.has(name) && !(name in TOOLS));
    expect(unused, 'declared but never imported: remove them or list the tool in TOOLS').toEqual([]);
  });

  it('runtime code (bin, lambdas, local, infra) imports no devDependency', () => {
    const runtime = importsUnder(RUNTIME_DIRS);
    const offenders = Object.keys(pkg.devDependencies)
      .filter((name) => runtime.has(name))
      .map((name) => `${name}: ${runtime.get(name)?.join(', ')}`);
    expect(offenders).toEqual([]);
  });

  it('keeps the AWS SDK v3 packages on one version and Powertools on one version', () => {
    for (const prefix of ['@aws-sdk/', '@aws-lambda-powertools/']) {
      const versions = new Set(
        Object.entries(all)
          .filter(([name]) => name.startsWith(prefix))
          .map(([, v]) => v),
      );
      expect([...versions], prefix).toHaveLength(1);
    }
  });

  it('aws-local-stepfunctions declares Node >= 22 but only needs Promise.withResolvers, which local/polyfills.ts adds', () => {
    // Why npm prints EBADENGINE for it on Node 20 and why that is safe; see docs/local-runtime.md.
    const dir = join(ROOT, 'node_modules', 'aws-local-stepfunctions');
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      version: string;
      engines?: { node?: string };
    };
    expect(meta.version).toBe(pkg.dependencies['aws-local-stepfunctions']);
    const build = readFileSync(join(dir, 'build', 'main.node.esm.js'), 'utf8');
    // Globals added in Node 21-24 (V8 12-13): none but withResolvers may appear.
    const newer = [
      'Array.fromAsync',
      'Object.groupBy',
      'Map.groupBy',
      'Iterator.from',
      '.symmetricDifference(',
      '.isSubsetOf(',
      '.isDisjointFrom(',
      'getBuiltinModule',
      'Promise.try',
      'RegExp.escape',
      'Float16Array',
      'URL.parse(',
      'import.meta.dirname',
    ].filter((api) => build.includes(api));
    expect(newer).toEqual([]);
    expect(build).toContain('withResolvers');
    expect(readFileSync(join(ROOT, 'local', 'polyfills.ts'), 'utf8')).toContain('P.withResolvers =');
  });
});
