import { defineConfig } from 'vitest/config';

/**
 * Three projects, as STYLE.md asks: unit (pure logic), infra (CDK template assertions, cdk-nag,
 * cfn-lint, asl-validator) and integration (real AWS APIs on emulators started by the test run,
 * or LocalStack / a real account when SHOPLAKE_EXTERNAL_AWS=1 and AWS_ENDPOINT_URL are set).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          setupFiles: ['test/setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          // One module graph for all infra files: aws-cdk-lib loads once and the synthesized
          // stages cached by test/infra/helpers.ts serve every file (tests only read them).
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/setup.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // Every athena/*.sql on a real Trino (installed and cached by scripts/setup-trino.sh),
          // compared with DuckDB. `npm run test:trino` runs it alone.
          name: 'trino',
          include: ['test/trino/**/*.test.ts'],
          setupFiles: ['test/setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // The Glue jobs (glue-jobs/) on local Spark against a PostgreSQL server of their own
          // (scripts/setup-spark-pg.sh installs pyspark, the jars and PostgreSQL).
          name: 'spark',
          include: ['test/spark/**/*.test.ts'],
          setupFiles: ['test/setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
