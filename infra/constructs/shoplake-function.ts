/**
 * The one Lambda construct of shoplake. It fixes what every function shares — newest Node.js
 * runtime, Graviton (ARM64), esbuild ESM bundle with source maps, JSON logs into an explicit log
 * group with the stage's retention, active X-Ray tracing, Powertools settings, an own role with
 * no managed policies — so stacks pass only the entry and what differs (memory, timeout, env).
 * Permissions are added by the caller through `grant*`.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import { handlerEntry, LOCK_FILE, REPO_ROOT } from './paths.ts';
import { stageLogGroup } from './secure-defaults.ts';

/** Runtime of every function: the newest Node.js aws-cdk-lib 2.276 offers. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** Graviton: cheaper per GB-second than x86 at equal or better performance. */
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;
/** @default memory of a function when the caller does not set one (MB). */
export const DEFAULT_MEMORY_MB = 512;
/** @default timeout of a function when the caller does not set one. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
/** CloudWatch metric namespace of the Powertools metrics every function emits. */
export const METRICS_NAMESPACE = 'Shoplake';
/**
 * ESM bundles have no `require`; some dependencies still call it (e.g. Node built-ins through
 * CommonJS shims), so the bundle defines one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __shoplakeCreateRequire } from 'node:module'; const require = __shoplakeCreateRequire(import.meta.url);";

export interface ShoplakeFunctionProps {
  /** Handler module relative to `lambdas/`, exporting `handler` (e.g. `ingest/handler.ts`). */
  readonly entry: string;
  /** Powertools service name (logs, metrics dimension, trace segment). */
  readonly serviceName: string;
  readonly description: string;
  readonly config: StageConfig;
  /** Extra environment (resource names); Powertools and Node settings are added here. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default DEFAULT_MEMORY_MB */
  readonly memorySize?: number;
  /** @default Duration.seconds(DEFAULT_TIMEOUT_SECONDS) */
  readonly timeout?: Duration;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

/** esbuild target of every bundle (the runtime's Node.js major). */
export const BUNDLE_TARGET = 'node24';
/** Package fields esbuild prefers, so dependencies resolve to their ESM builds. */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

export class ShoplakeFunction extends Construct {
  readonly function: NodejsFunction;
  /** Handler module relative to `lambdas/`. */
  readonly entry: string;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ShoplakeFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    const entry = handlerEntry(props.entry);
    this.logGroup = stageLogGroup(this, 'Logs', props.config);
    // An own role instead of AWSLambdaBasicExecutionRole: it may write only to its log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.serviceName} (${props.config.stage})`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      timeout: props.timeout ?? Duration.seconds(DEFAULT_TIMEOUT_SECONDS),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        SHOPLAKE_STAGE: props.config.stage,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: BUNDLE_MAIN_FIELDS,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        banner: ESM_REQUIRE_BANNER,
        // Bundle the SDK too: the pinned client versions run, not whatever the runtime ships.
        externalModules: [],
      },
    });
  }

  /** Adds an environment variable; pair it with the `grant*` call for the resource it names. */
  addEnvironment(name: string, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }
}
