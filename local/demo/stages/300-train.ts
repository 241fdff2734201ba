import { createRecommendationsHandler } from '../../../lambdas/recommendations/recommendations.ts';
import { documentClient } from '../../../lambdas/shared/aws-clients.ts';
import { DynamoFeatureStore } from '../../../lambdas/shared/features/dynamo-store.ts';
import {
  describeTraining,
  type LocalTrainingResult,
  localRecommendationStore,
  runLocalTraining,
  TrainingRunFailedError,
} from '../../cli/commands/train.ts';
import { openLocalEngine } from '../../engine/open.ts';
import { getProxyEvent } from '../../runtime/http-server.ts';
import type { DemoContext, DemoStage } from '../types.ts';

export interface TrainStageResult {
  readonly training: LocalTrainingResult;
  readonly samples: { request: string; status: number; body: unknown }[];
}

export const stage: DemoStage = {
  name: 'train',
  order: 300,
  async run(ctx: DemoContext): Promise<TrainStageResult> {
    const { runtime, report } = ctx;
    const engine = await openLocalEngine(runtime.stateDir);
    let training: LocalTrainingResult;
    try {
      report.progress(
        'training: step-functions/train.asl.json (interactions → co-occurrence → train + evaluate → gate → publish → activate)',
      );
      training = await runLocalTraining({
        runtime,
        engine,
        input: { model: 'auto', seed: ctx.options.seed },
        onProgress: (m) => report.progress(m),
      }).catch((error: unknown) => {
        // A refused candidate is an outcome the demo shows, not a crash.
        if (error instanceof TrainingRunFailedError) return error.result;
        throw error;
      });
    } finally {
      await engine.close();
    }
    const store = localRecommendationStore(runtime);
    const handle = createRecommendationsHandler({
      store,
      features: new DynamoFeatureStore({
        client: documentClient(runtime.clients.dynamodb),
        tableName: runtime.names.featuresTable,
      }),
    });
    const active = await store.getActive(true);
    const samples: TrainStageResult['samples'] = [];
    const ask = async (path: string, query: Record<string, string>) => {
      const res = await handle(getProxyEvent(path, query));
      samples.push({
        request: `GET ${path}?${new URLSearchParams(query).toString()}`,
        status: res.statusCode,
        body: JSON.parse(res.body) as unknown,
      });
    };
    const sampleUser = (
      ctx.results.ingest as { features?: { sample_user?: { user_id?: string } | null } } | undefined
    )?.features?.sample_user?.user_id;
    if (sampleUser) await ask(`/users/${sampleUser}/recommendations`, { k: '5' });
    if (active) {
      const popular = await store.getPopular(active.version);
      const item = popular.ids[0];
      if (item) await ask(`/items/${item}/similar`, { k: '5' });
    }
    await ask('/trending', { window: '1h', k: '5' });
    return { training, samples };
  },
  describe(result: unknown): string[] {
    const r = result as TrainStageResult;
    const lines = describeTraining(r.training);
    for (const s of r.samples) {
      const body = s.body as {
        items?: { product_id: string; reason?: string }[];
        model_version?: string | null;
        strategy?: string;
      };
      const items = (body.items ?? []).map((i) => i.product_id).join(', ');
      lines.push(
        `${s.request} → ${s.status}${body.strategy ? ` (${body.strategy})` : ''}: ${items || '(none)'}`,
      );
    }
    return lines;
  },
};
