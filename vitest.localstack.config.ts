import { defineConfig } from 'vitest/config';

/**
 * The LocalStack deploy tier: tests on the stacks `scripts/localstack/e2e.sh` deployed to
 * LocalStack with the CDK CLI (it sets SHOPLAKE_E2E_STAGE and AWS_ENDPOINT_URL). Not part of
 * `npm test`: run `npm run test:localstack`, which deploys, tests and destroys.
 */
export default defineConfig({
  test: {
    name: 'localstack',
    include: ['test/localstack/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
