// Shared test set-up: the same Node 20 polyfills the CLI installs, and quiet SDK warnings.
import '../local/polyfills.ts';

process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
process.env.POWERTOOLS_DEV ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
