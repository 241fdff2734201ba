/**
 * The dependency list is what the code uses: every package in package.json is imported (or is
 * a tool run by a script, listed below with why), runtime code imports no dev-only package,
 * and the AWS SDK clients and Powertools packages each sit on one version.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
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
  '@types/semver': 'types of semver (test/unit/dependencies.test.ts)',
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

  it('every installed package runs on the oldest Node that package.json engines allows (npm install prints no EBADENGINE)', () => {
    // npm warns EBADENGINE when a package's engines.node excludes the running Node; with our own
    // floor at or above every package's, no supported Node gets that warning.
    const floor = semver.minVersion(pkg.engines.node);
    expect(floor, `package.json engines.node ${pkg.engines.node}`).not.toBeNull();
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: Record<string, string> | string[]; optional?: boolean }>;
    };
    const excluded = Object.entries(lock.packages)
      .filter(
        ([path, p]) => path !== '' && !p.optional && p.engines && !Array.isArray(p.engines) && p.engines.node,
      )
      .map(
        ([path, p]) =>
          [path.replace(/^.*node_modules\//, ''), (p.engines as Record<string, string>).node] as const,
      )
      .filter(
        ([, range]) =>
          !semver.satisfies(floor as semver.SemVer, range as string, { includePrerelease: true }),
      );
    expect(excluded, `packages whose engines.node excludes Node ${floor}`).toEqual([]);
    // The tool that brings Node 22 to an older machine fetches a version inside that range.
    const script = readFileSync(join(ROOT, 'scripts', 'setup-node.sh'), 'utf8');
    const fetched = /NODE_VERSION=\$\{SHOPLAKE_NODE_VERSION:-([0-9.]+)\}/.exec(script)?.[1];
    expect(fetched && semver.satisfies(fetched, pkg.engines.node)).toBe(true);
    expect(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim()).toBe(String(floor?.major));
  });
});
