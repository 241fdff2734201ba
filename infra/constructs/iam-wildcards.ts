/**
 * The IAM wildcard policy of shoplake, in one reviewable list. cdk-nag's AwsSolutions-IAM5
 * reports every `*` in an IAM action or resource; most come from CDK `grant*` helpers (KMS and
 * S3 action families, object wildcards inside one bucket prefix, DynamoDB `index/*`). Rather
 * than acknowledging each finding by hand, this validation plugin (registered before cdk-nag)
 * matches every finding against `ALLOWED_IAM_WILDCARDS`: an allowed finding is acknowledged on
 * its policy with the rule's written reason; anything else — and any `*` / `service:*` action —
 * is reported as a violation, which fails synthesis.
 */
import {
  type App,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  type PolicyViolation,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

export interface PolicyStatementView {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface AllowedWildcard {
  readonly id: string;
  readonly reason: string;
  /** Whether `finding` (`Action::x` / `Resource::y`) is acceptable in this statement. */
  allows(finding: string, statement: PolicyStatementView): boolean;
}

/** Actions that support no resource-level permissions (AWS documents Resource "*"). */
export const RESOURCE_STAR_ACTIONS: ReadonlySet<string> = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // Glue jobs in a VPC (infra/constructs/extract-jobs.ts): EC2 Describe calls and job metrics.
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeRouteTables',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeVpcs',
  'cloudwatch:PutMetricData',
]);

/** Object-level S3 actions (and the action families `grant*` uses for them). */
const S3_OBJECT_ACTION =
  /^s3:(GetObject\*?|GetObjectVersion\*?|PutObject\*?|PutObjectLegalHold|PutObjectRetention|PutObjectTagging|PutObjectVersionTagging|DeleteObject\*?|Abort\*|GetBucket\*|List\*)$/;

export const ALLOWED_IAM_WILDCARDS: readonly AllowedWildcard[] = [
  {
    id: 'kms-action-families',
    reason:
      'KMS grants made by CDK grant* helpers for envelope encryption (S3, SQS, SNS, Kinesis, DynamoDB) use the GenerateDataKey* / ReEncrypt* action families, scoped to the one key ARN.',
    allows: (f) => /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/.test(f),
  },
  {
    id: 's3-action-families',
    reason:
      'S3 read/write/delete grants made by CDK grant* helpers use the GetObject*/GetBucket*/List*/DeleteObject*/Abort* action families, scoped to the named bucket and prefix.',
    allows: (f) => /^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*$/.test(f),
  },
  {
    id: 's3-objects-in-lake-bucket',
    reason:
      'Lake objects (Iceberg data/metadata files, quarantine and error objects, query results) have generated names, so object actions are granted on an object wildcard inside one bucket (and, where the role needs no more, one prefix).',
    allows: (f, s) =>
      /^Resource::[^*]+\/([a-z-]+\/)*\*$/.test(f) &&
      !f.includes(':table/') &&
      s.actions.every((a) => S3_OBJECT_ACTION.test(a) || a.startsWith('kms:')),
  },
  {
    id: 'dynamodb-indexes',
    reason:
      "CDK DynamoDB grants include the table's secondary indexes (<table ARN>/index/*) so queries on indexes work.",
    allows: (f, s) =>
      /^Resource::.+\/index\/\*$/.test(f) && s.actions.every((a) => a.startsWith('dynamodb:')),
  },
  {
    id: 'lambda-versions',
    reason: "Invoke grants include the function's versions and aliases (<function ARN>:*).",
    allows: (f, s) => /^Resource::.+:\*$/.test(f) && s.actions.every((a) => a === 'lambda:InvokeFunction'),
  },
  {
    id: 'resource-star-actions',
    reason:
      'X-Ray trace upload, CloudWatch Logs log-delivery, EC2 Describe* and CloudWatch PutMetricData (conditioned on the Glue namespace) do not support resource-level permissions; AWS documents Resource "*" for them.',
    allows: (f, s) => f === 'Resource::*' && s.actions.every((a) => RESOURCE_STAR_ACTIONS.has(a)),
  },
  {
    id: 'glue-tables-of-shoplake-databases',
    reason:
      "ETL and training SQL creates and reads tables inside the shoplake Glue databases; access is scoped to those databases' tables (table/<database>/*).",
    allows: (f, s) =>
      /^Resource::.+:table\/shoplake_[a-z0-9_]+\/\*$/.test(f) &&
      s.actions.every((a) => a.startsWith('glue:')),
  },
  {
    id: 'glue-job-network-interfaces',
    reason:
      'A Glue job in a VPC places its workers through network interfaces Glue creates, tags and deletes with generated ids (network-interface/*); creation is further limited to the configured subnets and security groups, tagging to the aws-glue-service-resource key.',
    allows: (f, s) =>
      /^Resource::.+:network-interface\/\*$/.test(f) &&
      s.actions.every((a) =>
        [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:CreateTags',
          'ec2:DeleteTags',
        ].includes(a),
      ),
  },
  {
    id: 'glue-job-logs',
    reason:
      "Glue writes a job run's driver output and errors to log groups it names under /aws-glue/jobs/ (with the security configuration's name when logs are encrypted).",
    allows: (f, s) =>
      /^Resource::.+:log-group:\/aws-glue\/jobs\/\*$/.test(f) &&
      s.actions.every((a) => a.startsWith('logs:')),
  },
  {
    id: 'glue-optimizer-logs',
    reason: 'Glue table optimizers write their run logs to log groups Glue names /aws-glue/iceberg*.',
    allows: (f, s) =>
      /^Resource::.+:log-group:\/aws-glue\/iceberg\*$/.test(f) &&
      s.actions.every((a) => a.startsWith('logs:')),
  },
];

interface RawStatement {
  Effect?: string;
  Action?: unknown;
  Resource?: unknown;
}

function toArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Statements of a resolved policy document as flat strings (nag's flattening). */
export function statementViews(document: unknown): PolicyStatementView[] {
  if (typeof document !== 'object' || document === null || !('Statement' in document)) return [];
  const statements = toArray((document as { Statement: unknown }).Statement) as RawStatement[];
  return statements
    .filter((s) => s.Effect === 'Allow')
    .map((s) => ({
      actions: toArray(s.Action).map((a) => String(a)),
      resources: toArray(s.Resource).map((r) => flattenCfnReference(r)),
    }));
}

/** Findings in nag's format (`Action::x`, `Resource::y`) of one statement. */
export function wildcardFindings(statement: PolicyStatementView): string[] {
  return [
    ...statement.actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`),
    ...statement.resources.filter((r) => r.includes('*')).map((r) => `Resource::${r}`),
  ];
}

/** `*` or `service:*`: never acceptable, whatever the resource. */
export function isFullAccessAction(action: string): boolean {
  return action === '*' || /^[a-z0-9-]+:\*$/.test(action);
}

function policyDocuments(node: IConstruct): unknown[] {
  if (node instanceof iam.CfnPolicy || node instanceof iam.CfnManagedPolicy)
    return [Stack.of(node).resolve(node.policyDocument)];
  if (node instanceof iam.CfnRole) {
    const stack = Stack.of(node);
    const policies = toArray(stack.resolve(node.policies)) as {
      policyDocument?: unknown;
      PolicyDocument?: unknown;
    }[];
    return policies.map((p) => stack.resolve(p.policyDocument ?? p.PolicyDocument));
  }
  return [];
}

/** Validation plugin enforcing `ALLOWED_IAM_WILDCARDS`; add it before the cdk-nag pack. */
export class IamWildcardPolicy implements IPolicyValidationPlugin {
  readonly name = 'ShoplakeIamWildcards';
  readonly version = '1';

  constructor(private readonly app: App) {}

  validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations: PolicyViolation[] = [];
    for (const node of this.app.node.findAll()) {
      for (const document of policyDocuments(node)) {
        const statements = statementViews(document);
        const byFinding = new Map<string, PolicyStatementView[]>();
        for (const statement of statements) {
          for (const action of statement.actions) {
            if (isFullAccessAction(action)) {
              violations.push({
                ruleName: 'ShoplakeIamWildcards-FullAccess',
                description: `${node.node.path} grants ${action}; use a grant* helper or list the actions`,
                violatingResources: [{ constructPath: node.node.path, locations: ['Properties'] }],
              });
            }
          }
          for (const finding of wildcardFindings(statement)) {
            byFinding.set(finding, [...(byFinding.get(finding) ?? []), statement]);
          }
        }
        for (const [finding, where] of byFinding) {
          const rule = ALLOWED_IAM_WILDCARDS.find((r) => where.every((s) => r.allows(finding, s)));
          if (rule) {
            Validations.of(node).acknowledge({
              id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
              reason: rule.reason,
            });
          } else {
            violations.push({
              ruleName: 'ShoplakeIamWildcards-NotAllowed',
              description: `${node.node.path}: wildcard ${finding} matches no rule of ALLOWED_IAM_WILDCARDS (infra/constructs/iam-wildcards.ts)`,
              violatingResources: [{ constructPath: node.node.path, locations: ['Properties'] }],
            });
          }
        }
      }
    }
    return { success: violations.length === 0, violations, pluginVersion: this.version };
  }
}
