// Host-process Lambda runtime for LocalStack's `host-node` executor (see __init__.py).
// Loads the handler named by `_HANDLER` from LAMBDA_TASK_ROOT, reports ready to LocalStack's
// executor endpoint, then serves `POST /invoke` on 127.0.0.1:SHOPLAKE_HOST_LAMBDA_PORT: one
// invocation at a time, result / error / timeout posted back to LocalStack with the
// invocation's captured output as its logs. The Node.js that runs this is the host's.
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const endpoint = env.LOCALSTACK_RUNTIME_ENDPOINT;
const runtimeId = env.LOCALSTACK_RUNTIME_ID;
const taskRoot = env.LAMBDA_TASK_ROOT;
const port = Number(env.SHOPLAKE_HOST_LAMBDA_PORT);
const timeoutSeconds = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT || 3);

async function post(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  await res.arrayBuffer();
}

function errorPayload(error, type) {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: type ?? e.name ?? 'Error',
    errorMessage: e.message,
    stackTrace: String(e.stack ?? '')
      .split('\n')
      .slice(1)
      .map((l) => l.trim()),
  };
}

async function loadHandler(spec) {
  const dot = spec.lastIndexOf('.');
  if (dot <= 0)
    throw Object.assign(new Error(`Bad handler ${spec}`), { name: 'Runtime.MalformedHandlerName' });
  const modulePath = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const file = ['.mjs', '.js', '.cjs'].map((ext) => path.join(taskRoot, modulePath + ext)).find(existsSync);
  if (!file)
    throw Object.assign(new Error(`Cannot find module '${modulePath}' in ${taskRoot}`), {
      name: 'Runtime.ImportModuleError',
    });
  const mod = await import(pathToFileURL(file).href);
  const fn = mod[exportName] ?? mod.default?.[exportName];
  if (typeof fn !== 'function')
    throw Object.assign(new Error(`${modulePath}.${exportName} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  return fn;
}

// Output of the current invocation, posted to LocalStack as its logs (it stores them in
// CloudWatch Logs); everything also goes to this process's stdout (LocalStack's debug log).
let captured = null;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    if (captured) captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return write(chunk, ...rest);
  };
}

let current = null; // { id, settle }

async function invoke(request) {
  const id = request['invoke-id'];
  const deadline = Date.now() + timeoutSeconds * 1000;
  env._X_AMZN_TRACE_ID = request['trace-id'] ?? '';
  captured = [`START RequestId: ${id} Version: ${env.AWS_LAMBDA_FUNCTION_VERSION}\n`];
  let done = false;
  const finish = async (kind, body) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    current = null;
    captured.push(`END RequestId: ${id}\n`);
    const logs = captured.join('');
    captured = null;
    await post(`${endpoint}/invocations/${id}/logs`, { logs });
    await post(`${endpoint}/invocations/${id}/${kind}`, body);
  };
  const timer = setTimeout(() => {
    finish('error', {
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
    }).finally(() => process.exit(1));
  }, timeoutSeconds * 1000);
  current = { fail: (error) => finish('error', errorPayload(error)) };
  const context = {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: request['invoked-function-arn'],
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const event = JSON.parse(request.payload || 'null');
    const result = await new Promise((resolve, reject) => {
      const callback = (error, value) => (error ? reject(error) : resolve(value));
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    });
    await finish('response', JSON.stringify(result === undefined ? null : result));
  } catch (error) {
    await finish('error', errorPayload(error));
  }
}

for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(`${event}:`, error);
    if (current) current.fail(error).finally(() => process.exit(1));
    else process.exit(1);
  });
}

let handler;
try {
  handler = await loadHandler(env._HANDLER ?? '');
} catch (error) {
  console.error(error);
  await post(`${endpoint}/status/${runtimeId}/error`, errorPayload(error, error?.name));
  process.exit(1);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/invoke') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let request;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(202).end();
    invoke(request).catch((error) => console.error('host-node bootstrap:', error));
  });
});
server.listen(port, '127.0.0.1', () => {
  post(`${endpoint}/status/${runtimeId}/ready`, {}).catch((error) => {
    console.error('host-node bootstrap: cannot report ready:', error);
    process.exit(1);
  });
});
