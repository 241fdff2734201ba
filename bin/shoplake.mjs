#!/usr/bin/env node
// Entry point for `npx shoplake`: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
register();
const { main } = await import('../local/cli/main.ts');
process.exitCode = await main(process.argv);
