/**
 * Shared synthesis for the infra tests: each stage is synthesized once for all test files (with
 * the cdk-nag pack on, so every synth is also a nag check), and tests assert on the templates.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { type SynthesizedApp, type SynthesizeOptions, synthesizeApp } from '../../infra/synth.ts';

const cache = new Map<string, SynthesizedApp>();

/** A well-formed QuickSight principal: pass as `quicksightPrincipalArn` to get the BI stack. */
export const QUICKSIGHT_PRINCIPAL = 'arn:aws:quicksight:us-east-1:123456789012:user/default/analyst';

/** Synthesizes (once per options for the whole infra project, which shares one module graph) with cdk-nag on. */
export function synth(options: SynthesizeOptions = {}): SynthesizedApp {
  const key = JSON.stringify(options);
  let app = cache.get(key);
  if (!app) {
    app = synthesizeApp({ nag: true, ...options });
    cache.set(key, app);
  }
  return app;
}

/** `Template` of one stack of a synthesized app; fails loudly when the stack is missing. */
export function template(app: SynthesizedApp, stackId: string): Template {
  const json = app.templates[stackId];
  if (!json)
    throw new Error(`stack ${stackId} not synthesized; have ${Object.keys(app.templates).join(', ')}`);
  return Template.fromJSON(json);
}

/** A resource of a synthesized template, with the stack it is in. */
export interface FoundResource {
  stack: string;
  logicalId: string;
  properties: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** Resources of a type across all stacks, with their stack id and logical id. */
export function resourcesOfType(app: SynthesizedApp, type: string): FoundResource[] {
  const out: FoundResource[] = [];
  for (const [stack, t] of Object.entries(app.templates)) {
    for (const [logicalId, resource] of Object.entries(t.Resources)) {
      if (resource.Type === type)
        out.push({ stack, logicalId, properties: resource.Properties ?? {}, resource });
    }
  }
  return out;
}

/** The string parts of a CloudFormation `Fn::Join` (tokens dropped), or the string itself. */
export function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'Fn::Join' in value) {
    const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return join[1].map((part) => (typeof part === 'string' ? part : '<token>')).join(join[0]);
  }
  return '<token>';
}

/**
 * Batch sources of a test stage (`-c sources=…`): the OLTP database behind two subnets (two
 * Glue connections) with a secret by name and its own job sizing, the marketing database with
 * a secret by complete ARN and the default sizing.
 */
export const TEST_SOURCES = {
  oltp: {
    jdbcUrl: 'jdbc:postgresql://shop-db.internal.example.com:5432/shop',
    secret: 'shoplake/oltp',
    subnets: [
      { subnetId: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' },
      { subnetId: 'subnet-0fedcba9876543210', availabilityZone: 'us-east-1b' },
    ],
    securityGroupIds: ['sg-0123456789abcdef0'],
    job: { workerType: 'G.2X', numberOfWorkers: 4, timeoutMinutes: 90 },
  },
  marketing: {
    jdbcUrl: 'jdbc:postgresql://crm.internal.example.com/marketing',
    secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shoplake/marketing-AbCdEf',
    subnets: [{ subnetId: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }],
    securityGroupIds: ['sg-0a1b2c3d4e5f60718'],
  },
} as const;

/** Context giving a stage the test sources (as `-c sources='<JSON>'` does). */
export const SOURCES_CONTEXT = { sources: JSON.stringify(TEST_SOURCES) } as const;
