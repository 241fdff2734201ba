/**
 * The ETL pipeline, described once: a typed list of steps from which `asl.ts` generates
 * `step-functions/etl.asl.json` (committed; `npm run generate:etl` rewrites it and
 * `test/unit/asl-etl-generated.test.ts` fails when the file and this list disagree).
 *
 * A step is a SQL file (`athena/<sql>.sql`, one statement) run by Athena with the named
 * parameters it uses, a task Lambda named explicitly (module under `lambdas/`), or a source's
 * Glue extract job (run when PrepareRun's `sources` flag of that source is set). `dependsOn`
 * orders the steps: a step runs after every step it names; steps that do not depend on each
 * other (directly or through a chain) run in a `Parallel` state. Adding a step is one entry
 * here (plus its SQL file); the generator wires the states, the shared retry policy and the
 * failure notification.
 */

import {
  DEFAULT_EXTRACT_MODE,
  EXTRACT_JOB_NAME_KEYS,
  EXTRACT_STATE_NAMES,
  type ExtractSource,
  GLUE_JOB_ARGS,
} from '../shared/extract-sources.ts';

/** Named parameters a SQL step may use; PrepareRun provides each as an Athena literal. */
export type EtlParam = 'run_id' | 'date_from' | 'date_to';

/** A task Lambda a state machine invokes: `${<key>}` is its ARN substitution. */
export interface TaskLambda {
  /** Substitution key in the definition, e.g. `PrepareRunFunctionArn`. */
  readonly key: string;
  /** Handler module relative to `lambdas/`, exporting `handler`. */
  readonly entry: string;
  /** Group directory under `lambdas/` (`etl`, `training`): names the function construct. */
  readonly group: string;
  /** PascalCase name: the function construct is `<Group><Name>Function`. */
  readonly name: string;
}

interface StepBase {
  /** State name (PascalCase, unique). */
  readonly name: string;
  /** Steps that must finish before this one (names from this list). */
  readonly dependsOn: readonly string[];
  readonly comment?: string;
}

/** Runs `athena/<sql>.sql` through `athena:startQueryExecution.sync`. */
export interface SqlStep extends StepBase {
  readonly kind: 'sql';
  /** File stem under `athena/`. */
  readonly sql: string;
  /** Named parameters the file uses (checked against the file). */
  readonly params: readonly EtlParam[];
  /**
   * Read the query's result rows: a `getQueryResults` state named `state` follows, keeping
   * the execution id at `queryPath` and the rows at `path` (`{ Rows: [...] }`).
   */
  readonly results?: { readonly state: string; readonly queryPath: string; readonly path: string };
  /** With `results`: any result row (besides the header) fails the run with this error. */
  readonly gate?: { readonly error: string; readonly cause: string };
  /**
   * With `results`: the idle skip. When the FIRST column of the first result row is named
   * `column` (checked in the header row, so a reordered SELECT never skips) and is `true`, a
   * Choice jumps to the top-level step `to`, skipping every step in between, and the Iceberg
   * maintenance after the pipeline is skipped too (nothing was written since the run that
   * last maintained the tables). Every step that writes bronze (extracts) must come before
   * this one.
   */
  readonly skipWhenIdle?: { readonly column: string; readonly to: string };
}

/** Invokes a task Lambda; its payload fields are kept at `resultPath`. */
export interface LambdaStep extends StepBase {
  readonly kind: 'lambda';
  readonly lambda: TaskLambda;
  /** Payload of the invocation (ASL Parameters syntax). */
  readonly payload: Readonly<Record<string, string>>;
  /** Payload fields copied into the state (`field` → `$.Payload.field`). */
  readonly resultFields: readonly string[];
  readonly resultPath: string;
}

/**
 * Acquires the run lease (one run at a time): a conditional put of the lock item; when another
 * unexpired run holds it the execution ends as skipped. The generator releases the lease on
 * every exit path (success, failure); the processing stack's EventBridge rule releases it when
 * an execution times out or is aborted.
 */
export interface LeaseStep extends StepBase {
  readonly kind: 'lease';
}

/**
 * Runs a source's Glue extract job (`glue:startJobRun.sync`) when PrepareRun says the stage
 * has that source (`$.run.sources.<source>`); otherwise a Pass state records it as skipped.
 * The job run's id and state are kept at `$.extract_<source>`.
 */
export interface GlueStep extends StepBase {
  readonly kind: 'glue';
  readonly source: ExtractSource;
  /** Substitution key of the job name (`${OltpExtractJobName}`). */
  readonly jobNameKey: string;
  /** Job run arguments (ASL Parameters syntax), besides the job's default arguments. */
  readonly arguments: Readonly<Record<string, string>>;
}

export type EtlStep = SqlStep | LambdaStep | LeaseStep | GlueStep;

/** The ETL's PrepareRun task Lambda. */
export const PREPARE_RUN_LAMBDA: TaskLambda = {
  key: 'PrepareRunFunctionArn',
  entry: 'etl/handler.ts',
  group: 'etl',
  name: 'PrepareRun',
};

const sql = (
  name: string,
  file: string,
  params: readonly EtlParam[],
  dependsOn: readonly string[],
  extra: Partial<Pick<SqlStep, 'results' | 'gate' | 'skipWhenIdle' | 'comment'>> = {},
): SqlStep => ({ kind: 'sql', name, sql: file, params, dependsOn, ...extra });

/** The extract job of one source, with the run id and the scheduled (incremental) mode. */
const glue = (source: ExtractSource, dependsOn: readonly string[]): GlueStep => ({
  kind: 'glue',
  name: EXTRACT_STATE_NAMES[source],
  source,
  jobNameKey: EXTRACT_JOB_NAME_KEYS[source],
  arguments: {
    [`${GLUE_JOB_ARGS.runId}.$`]: '$.run.run_id',
    [GLUE_JOB_ARGS.extractMode]: DEFAULT_EXTRACT_MODE,
  },
  dependsOn,
  comment: `glue-jobs/extract_job.py --source ${source}: the ${source} database into bronze (skipped when the stage has no ${source} source)`,
});

/** Every silver step: the quality checks wait for all of them. */
const SILVER: readonly EtlStep[] = [
  sql('SilverRejectedEvents', 'etl_10_silver_rejected_events', ['run_id'], ['MarkRun']),
  sql('SilverEvents', 'etl_11_silver_events', ['run_id'], ['SilverRejectedEvents']),
  sql('SilverDimCustomer', 'etl_12_silver_dim_customer', [], ['SilverEvents']),
  sql('SilverDimProduct', 'etl_13_silver_dim_product', [], ['SilverDimCustomer']),
  sql('SilverSessionsDelete', 'etl_14_silver_sessions_delete', [], ['SilverDimProduct']),
  sql('SilverSessionsInsert', 'etl_15_silver_sessions_insert', ['run_id'], ['SilverSessionsDelete']),
  sql('SilverOrders', 'etl_16_silver_orders', ['run_id'], ['SilverSessionsInsert']),
  sql('SilverOrderLinesDelete', 'etl_17_silver_order_lines_delete', [], ['SilverOrders']),
  sql('SilverOrderLinesInsert', 'etl_18_silver_order_lines_insert', ['run_id'], ['SilverOrderLinesDelete']),
  sql('SilverMarketingLeadsDelete', 'etl_19_silver_marketing_leads_delete', [], ['SilverOrderLinesInsert']),
  sql(
    'SilverMarketingLeadsInsert',
    'etl_19_silver_marketing_leads_insert',
    ['run_id'],
    ['SilverMarketingLeadsDelete'],
  ),
  sql(
    'SilverMarketingDealsDelete',
    'etl_19_silver_marketing_deals_delete',
    [],
    ['SilverMarketingLeadsInsert'],
  ),
  sql(
    'SilverMarketingDealsInsert',
    'etl_19_silver_marketing_deals_insert',
    ['run_id'],
    ['SilverMarketingDealsDelete'],
  ),
  sql('SilverPayments', 'etl_19_silver_payments', ['run_id'], ['SilverMarketingDealsInsert']),
  sql('SilverReviews', 'etl_19_silver_reviews', ['run_id'], ['SilverPayments']),
];

/**
 * Access-log silver (docs/access-logs.md): parsed requests from bronze.access_logs, bronze
 * retention (raw IPs), inferred sessions. A chain of its own, parallel to the events chain.
 */
const ACCESS_SILVER: readonly EtlStep[] = [
  sql('SilverAccessRequests', 'etl_70_silver_access_requests', ['run_id'], ['MarkRun']),
  sql('BronzeAccessLogsRetention', 'etl_71_bronze_access_logs_retention', [], ['SilverAccessRequests']),
  sql(
    'SilverAccessSessionsDelete',
    'etl_72_silver_access_sessions_delete',
    [],
    ['BronzeAccessLogsRetention'],
  ),
  sql(
    'SilverAccessSessionsInsert',
    'etl_73_silver_access_sessions_insert',
    ['run_id'],
    ['SilverAccessSessionsDelete'],
  ),
];

/** Access-log gold: traffic per 5 min / hour / day, daily rankings, daily health. */
const ACCESS_GOLD: readonly EtlStep[] = [
  sql('GoldAccessTrafficDelete', 'etl_74_gold_access_traffic_delete', [], ['QualityGate']),
  sql('GoldAccessTrafficInsert', 'etl_75_gold_access_traffic_insert', [], ['GoldAccessTrafficDelete']),
  sql('GoldAccessTopDelete', 'etl_76_gold_access_top_delete', [], ['QualityGate']),
  sql('GoldAccessTopInsert', 'etl_77_gold_access_top_insert', [], ['GoldAccessTopDelete']),
  sql('GoldAccessDailyHealthDelete', 'etl_78_gold_access_daily_health_delete', [], ['GoldAccessTopInsert']),
  sql(
    'GoldAccessDailyHealthInsert',
    'etl_79_gold_access_daily_health_insert',
    [],
    ['GoldAccessDailyHealthDelete'],
  ),
];

/**
 * Gold steps: each recomputes the keys (days, months, customers) touched by the pending runs'
 * silver changes. Independent ones run in parallel; the run completes when all have committed.
 */
const GOLD: readonly EtlStep[] = [
  sql('GoldDailySales', 'etl_30_gold_daily_sales', ['run_id'], ['QualityGate']),
  sql('GoldConversionFunnel', 'etl_31_gold_conversion_funnel', ['run_id'], ['QualityGate']),
  sql('GoldRecClickThrough', 'etl_32_gold_rec_click_through', ['run_id'], ['QualityGate']),
  sql('GoldRecImpressionCtr', 'etl_44_gold_rec_impression_ctr', ['run_id'], ['QualityGate']),
  sql('GoldRecAbArms', 'etl_45_gold_rec_ab_arms', ['run_id'], ['QualityGate']),
  sql('GoldMonthlyKpis', 'etl_33_gold_monthly_kpis', ['run_id'], ['QualityGate']),
  sql('GoldCategoryRevenueDelete', 'etl_34_gold_category_revenue_delete', [], ['QualityGate']),
  sql(
    'GoldCategoryRevenueInsert',
    'etl_35_gold_category_revenue_insert',
    ['run_id'],
    ['GoldCategoryRevenueDelete'],
  ),
  sql('GoldTopProductsDelete', 'etl_36_gold_top_products_delete', [], ['QualityGate']),
  sql('GoldTopProductsInsert', 'etl_37_gold_top_products_insert', ['run_id'], ['GoldTopProductsDelete']),
  sql('GoldCustomerLtv', 'etl_38_gold_customer_ltv', ['run_id'], ['QualityGate']),
  sql('GoldRepeatPurchase', 'etl_39_gold_repeat_purchase', ['run_id'], ['QualityGate']),
  sql('GoldCancellations', 'etl_40_gold_cancellations', ['run_id'], ['QualityGate']),
  sql('GoldReviewRatings', 'etl_41_gold_review_ratings', ['run_id'], ['QualityGate']),
  sql('GoldCampaignAttributionDelete', 'etl_42_gold_campaign_attribution_delete', [], ['QualityGate']),
  sql(
    'GoldCampaignAttributionInsert',
    'etl_43_gold_campaign_attribution_insert',
    ['run_id'],
    ['GoldCampaignAttributionDelete'],
  ),
  sql('GoldMarketingFunnelDelete', 'etl_45_gold_marketing_funnel_delete', [], ['QualityGate']),
  sql(
    'GoldMarketingFunnelInsert',
    'etl_46_gold_marketing_funnel_insert',
    ['run_id'],
    ['GoldMarketingFunnelDelete'],
  ),
  sql('GoldPaymentReconciliation', 'etl_47_gold_payment_reconciliation', ['run_id'], ['QualityGate']),
  sql('GoldProductRatings', 'etl_48_gold_product_ratings', ['run_id'], ['QualityGate']),
  // Demand forecasting (docs/forecasting.md): daily demand → features; forecasts vs actuals.
  sql('GoldDemandDailyDelete', 'etl_60_gold_demand_daily_delete', [], ['QualityGate']),
  sql('GoldDemandDailyInsert', 'etl_61_gold_demand_daily_insert', ['run_id'], ['GoldDemandDailyDelete']),
  sql('GoldDemandFeaturesDelete', 'etl_62_gold_demand_features_delete', [], ['GoldDemandDailyInsert']),
  sql(
    'GoldDemandFeaturesInsert',
    'etl_63_gold_demand_features_insert',
    ['run_id'],
    ['GoldDemandFeaturesDelete'],
  ),
  sql('GoldDemandVsActual', 'etl_64_gold_demand_vs_actual', ['run_id'], ['GoldDemandDailyInsert']),
];

/** The ETL pipeline, in the order the states are written. */
export const ETL_STEPS: readonly EtlStep[] = [
  {
    kind: 'lambda',
    name: 'PrepareRun',
    comment: 'lambdas/etl/handler.ts: run id, date window, execution-parameter literals',
    lambda: PREPARE_RUN_LAMBDA,
    payload: { 'input.$': '$', 'executionName.$': '$$.Execution.Name' },
    resultFields: [
      'run_id',
      'run_date',
      'date_from',
      'date_to',
      'sql',
      'maintenance_tables',
      'lease',
      'sources',
    ],
    resultPath: '$.run',
    dependsOn: [],
  },
  {
    kind: 'lease',
    name: 'AcquireLease',
    comment: 'one run at a time: conditional put of the lock item (absent or expired), before any write',
    dependsOn: ['PrepareRun'],
  },
  sql('RegisterRun', 'etl_01_register_run', ['run_id', 'date_from', 'date_to'], ['AcquireLease'], {
    comment: 'athena/etl_01_register_run.sql: the run joins ops.etl_pending before its first data write',
  }),
  // One extract job at a time: each reads its own database; sequential keeps the local engine single-writer.
  glue('oltp', ['RegisterRun']),
  glue('marketing', ['ExtractOltp']),
  sql('Extract', 'etl_00_extract_summary', [], ['ExtractMarketing'], {
    comment: 'athena/etl_00_extract_summary.sql (locally preceded by landing → bronze)',
    results: { state: 'ExtractSummary', queryPath: '$.extract', path: '$.extract_summary' },
    // nothing new in bronze since the last completed run and nothing pending: complete now
    skipWhenIdle: { column: 'idle', to: 'CompleteRun' },
  }),
  sql('MarkRun', 'etl_02_mark_run', ['run_id'], ['Extract'], {
    comment: 'athena/etl_02_mark_run.sql: what this run reads from bronze (the idle check compares with it)',
  }),
  ...SILVER,
  ...ACCESS_SILVER,
  sql(
    'QualityChecks',
    'etl_20_quality_checks',
    ['run_id'],
    [...SILVER, ...ACCESS_SILVER].map((s) => s.name),
  ),
  sql('QualityGate', 'etl_21_quality_gate', ['run_id'], ['QualityChecks'], {
    results: { state: 'QualityGateResults', queryPath: '$.gate_query', path: '$.gate' },
    gate: {
      error: 'DataQualityGateFailed',
      cause: 'blocking data-quality checks failed; gold was not updated',
    },
  }),
  ...GOLD,
  ...ACCESS_GOLD,
  sql(
    'CompleteRun',
    'etl_50_complete_run',
    ['run_id'],
    [...GOLD, ...ACCESS_GOLD].map((s) => s.name),
    {
      comment:
        'athena/etl_50_complete_run.sql: gold has consumed the pending runs; they leave ops.etl_pending',
    },
  ),
];

/** Task Lambdas the ETL definition invokes (the processing stack creates exactly these). */
export function etlTaskLambdas(steps: readonly EtlStep[] = ETL_STEPS): TaskLambda[] {
  return steps.filter((s): s is LambdaStep => s.kind === 'lambda').map((s) => s.lambda);
}
