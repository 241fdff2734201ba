/**
 * The demand-forecast model step as a Python 3.12 ARM64 Lambda (docs/forecasting.md, "On AWS").
 *
 * The package `lambdas/forecast/py/shoplake_forecast` and its requirements are bundled without
 * Docker: `pip install --platform manylinux2014_aarch64 --only-binary=:all:` fetches the aarch64
 * wheels from PyPI into the asset (what the Lambda runtime on Graviton loads), then the package
 * is copied beside them. Unzipped, the bundle must stay under Lambda's 250 MB limit: numpy,
 * pandas, scipy (scikit-learn's dependency), scikit-learn, LightGBM and holidays measure 286 MB
 * unzipped, 236 MB after `pruneBundle` (FORECAST_BUNDLE_MB): it fits, with 14 MB to spare. Test
 * synths skip bundling.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import { REPO_ROOT } from './paths.ts';
import { stageLogGroup } from './secure-defaults.ts';

export const FORECAST_PYTHON_DIR = join(REPO_ROOT, 'lambdas', 'forecast', 'py');
export const FORECAST_RUNTIME = lambda.Runtime.PYTHON_3_12;
/**
 * The model step trains LightGBM on up to 200k rows × 30 features (three boosters) and backtests
 * eight refits: memory buys CPU on Lambda (1,769 MB = one vCPU), so it gets the most.
 * @default 10240 MB, 15 minutes
 */
export const FORECAST_MODEL_MEMORY_MB = 10_240;
export const FORECAST_MODEL_TIMEOUT = Duration.minutes(15);
/** Measured size of the unzipped bundle (docs/forecasting.md), against Lambda's 250 MB. */
export const FORECAST_BUNDLE_MB = 236;

/**
 * Drops what the runtime never loads — the libraries' own test suites, type stubs, bytecode
 * caches — from the bundle: 286 MB of wheels unzipped become 236 MB, under the 250 MB limit.
 */
export function pruneBundle(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) {
      if (name.endsWith('.pyi')) rmSync(path);
      continue;
    }
    if (name === 'tests' || name === '__pycache__') rmSync(path, { recursive: true, force: true });
    else pruneBundle(path);
  }
}

export interface ForecastModelFunctionProps {
  readonly config: StageConfig;
  readonly environment?: Readonly<Record<string, string>>;
}

/** pip arguments that resolve the requirements to Lambda's ARM64 / CPython 3.12 wheels. */
export function aarch64PipArgs(outputDir: string): string[] {
  return [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--platform',
    'manylinux2014_aarch64',
    '--platform',
    'manylinux_2_28_aarch64',
    '--implementation',
    'cp',
    '--python-version',
    '3.12',
    '--only-binary=:all:',
    '--target',
    outputDir,
    '-r',
    join(FORECAST_PYTHON_DIR, 'requirements.txt'),
  ];
}

export class ForecastModelFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ForecastModelFunctionProps) {
    super(scope, id);
    this.logGroup = stageLogGroup(this, 'Logs', props.config);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `forecast-model (${props.config.stage})`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Function', {
      description: 'forecast model step: lambdas/forecast/py (backtest, gate, LightGBM train, predict)',
      runtime: FORECAST_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'shoplake_forecast.handler.handler',
      code: lambda.Code.fromAsset(FORECAST_PYTHON_DIR, {
        exclude: ['**/__pycache__', 'tests'],
        bundling: {
          // Docker is the fallback only; the local bundler below needs none.
          image: FORECAST_RUNTIME.bundlingImage,
          command: [
            'bash',
            '-c',
            "pip install -r requirements.txt -t /asset-output && cp -r shoplake_forecast /asset-output/ && find /asset-output -depth -type d \\( -name tests -o -name __pycache__ \\) -exec rm -rf {} + && find /asset-output -name '*.pyi' -delete",
          ],
          local: {
            tryBundle(outputDir: string): boolean {
              mkdirSync(outputDir, { recursive: true });
              execFileSync(process.env.PYTHON ?? 'python3', aarch64PipArgs(outputDir), { stdio: 'inherit' });
              cpSync(join(FORECAST_PYTHON_DIR, 'shoplake_forecast'), join(outputDir, 'shoplake_forecast'), {
                recursive: true,
                filter: (src) => !src.includes('__pycache__'),
              });
              pruneBundle(outputDir);
              return true;
            },
          },
        },
      }),
      memorySize: FORECAST_MODEL_MEMORY_MB,
      timeout: FORECAST_MODEL_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        OMP_WAIT_POLICY: 'PASSIVE',
        SHOPLAKE_STAGE: props.config.stage,
        ...props.environment,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'Pinned to Python 3.12 on purpose: the bundle is built from cp312 aarch64 wheels (aarch64PipArgs) and the local venv (scripts/setup-forecast.sh) uses 3.12; move both together',
    });
  }
}
