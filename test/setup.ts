// Shared test set-up: quiet SDK and Powertools output.
process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
// The variable this SDK version actually reads (emitWarningIfUnsupportedVersion in @aws-sdk/core).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_DEV ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
