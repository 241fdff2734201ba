#!/usr/bin/env node
// Entry point for `npx shoplake`: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
// The variable this SDK version actually reads (emitWarningIfUnsupportedVersion in @aws-sdk/core).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../local/cli/main.ts');
process.exitCode = await main(process.argv);
