/**
 * Demand-forecast models in the model registry: the same DynamoDB table and `REGISTRY`
 * partition as the recommender's models (lambdas/shared/recommender/store.ts), told apart by
 * `kind: 'demand-forecast'` and their own sort-key prefix, so listing or activating recommender
 * models never sees a forecast model and the other way round.
 *
 * | pk         | sk                    | attributes                                              |
 * |------------|-----------------------|---------------------------------------------------------|
 * | `REGISTRY` | `FORECAST#<version>`  | kind, status, params, backtest metrics, gate, artifact  |
 * | `REGISTRY` | `ACTIVE#FORECAST`     | version, previous, activated_at                          |
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { key, safeId } from '../keys.ts';
import { REGISTRY_PK } from '../recommender/store.ts';

export const FORECAST_KIND = 'demand-forecast' as const;
export const forecastEntryKey = (version: string) => ({
  pk: REGISTRY_PK,
  sk: key('FORECAST', safeId('version', version)),
});
export const forecastActiveKey = () => ({ pk: REGISTRY_PK, sk: 'ACTIVE#FORECAST' });

/** One row of the backtest table: a model at one horizon (or `all`). */
export interface BacktestRow {
  readonly model: string;
  readonly horizon: number | 'all';
  readonly points: number;
  readonly wape: number | null;
  readonly mase: number | null;
  readonly bias: number | null;
  readonly coverage_80: number | null;
  readonly category_wape: number | null;
  /**
   * Root mean squared error in units: a proper score for a mean forecast, unlike WAPE/MASE,
   * which reward forecasting low on intermittent series (absent in entries before 2026-12-05).
   */
  readonly rmse?: number | null;
}

export interface ForecastRegistryEntry {
  readonly kind: typeof FORECAST_KIND;
  readonly version: string;
  readonly status: 'rejected' | 'published' | 'active' | 'retired';
  readonly model: string;
  readonly params: Record<string, unknown>;
  readonly artifact_uri: string;
  readonly trained_at: string;
  readonly last_date: string;
  readonly backtest: { origins: string[]; metrics: BacktestRow[] };
  readonly gate: { passed: boolean; reasons: string[]; summary?: string };
  readonly quality: Record<string, number>;
  readonly timings: Record<string, unknown>;
  readonly activated_at?: string;
}

export interface ForecastPointer {
  readonly version: string;
  readonly previous: string | null;
  readonly activated_at: string;
}

export class ForecastModelNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForecastModelNotFoundError';
  }
}

/** Registry access for the forecast task Lambdas and the CLI. */
export class ForecastRegistry {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, 'send'>,
    readonly tableName: string,
  ) {}

  async put(entry: ForecastRegistryEntry): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...forecastEntryKey(entry.version), ...entry } }),
    );
  }

  async get(version: string): Promise<ForecastRegistryEntry | undefined> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: forecastEntryKey(version), ConsistentRead: true }),
    );
    return res.Item?.kind === FORECAST_KIND ? (res.Item as unknown as ForecastRegistryEntry) : undefined;
  }

  async list(): Promise<ForecastRegistryEntry[]> {
    const out: ForecastRegistryEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': REGISTRY_PK, ':p': 'FORECAST#' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? [])
        if (item.kind === FORECAST_KIND) out.push(item as unknown as ForecastRegistryEntry);
      start = res.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.version.localeCompare(b.version));
  }

  async active(): Promise<ForecastPointer | undefined> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: forecastActiveKey(), ConsistentRead: true }),
    );
    const item = res.Item;
    return typeof item?.version === 'string' ? (item as unknown as ForecastPointer) : undefined;
  }

  /** Points the forecast at a published version (refuses a rejected or unknown one). */
  async activate(version: string, now: Date): Promise<ForecastPointer> {
    const entry = await this.get(version);
    if (!entry) throw new ForecastModelNotFoundError(`forecast model ${version} is not in the registry`);
    if (entry.status === 'rejected')
      throw new ForecastModelNotFoundError(
        `forecast model ${version} was rejected by the quality gate: ${entry.gate.reasons.join('; ')}`,
      );
    const previous = await this.active();
    const pointer: ForecastPointer = {
      version,
      previous: previous?.version ?? null,
      activated_at: now.toISOString(),
    };
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...forecastActiveKey(), ...pointer } }),
    );
    await this.put({ ...entry, status: 'active', activated_at: pointer.activated_at });
    if (previous && previous.version !== version) {
      const old = await this.get(previous.version);
      if (old) await this.put({ ...old, status: 'retired' });
    }
    return pointer;
  }
}
