#!/usr/bin/env node
// Entry point for `npx shoplake`: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

// package.json engines: Node.js >= 22.12 (the local Step Functions interpreter, Vite and the AWS
// SDK need 22). Say so plainly instead of failing later inside a library.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `shoplake needs Node.js >= 22.12; this is ${process.version}. ` +
      'Run `eval "$(bash scripts/setup-node.sh)"` in this shell to use Node 22 from the npm registry, or install Node 22.',
  );
  process.exit(1);
}

process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
// The variable this SDK version actually reads (emitWarningIfUnsupportedVersion in @aws-sdk/core).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../local/cli/main.ts');
process.exitCode = await main(process.argv);
