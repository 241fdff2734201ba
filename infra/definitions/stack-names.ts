/**
 * CloudFormation stack names of a stage, shared by the CDK app (`infra/build-app.ts`) and the
 * CLI's deployed-stage commands (`shoplake tables|etl|train --stage`), without importing CDK.
 */

/** Stack name of a concern in a stage: `Shoplake-dev-Storage`. */
export function stackName(config: { readonly stage: string }, concern: string): string {
  return `Shoplake-${config.stage}-${concern}`;
}
