/**
 * Cloud Functions entry points (package.json `main`). Importing this module only registers the two
 * CloudEvent functions; configuration, clients and the handlers are created on the first
 * invocation of each and memoised for the instance.
 *
 *   npx functions-framework --target=fetchIocStream  --signature-type=cloudevent
 *   npx functions-framework --target=sendToChronicle --signature-type=cloudevent
 */

import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { createAccessTokenProvider } from '../shared/chronicle/auth.js';
import { createChronicleClient } from '../shared/chronicle/client.js';
import { chronicleTarget } from '../shared/chronicle/resources.js';
import { createFirestoreState, firestoreSettings } from '../shared/cloud/firestore_state.js';
import { createPublisher, pubSubSettings } from '../shared/cloud/pubsub.js';
import { ConfigError, describeError } from '../shared/core/errors.js';
import { retryPolicy } from '../shared/core/retry_config.js';
import { createApiKeyProvider } from '../shared/gti/api_key.js';
import { createGtiClient } from '../shared/gti/client.js';
import { createFetchHandler } from './fetcher.js';
import { functionLogger, instanceConfig } from './runtime.js';
import { createSendHandler } from './sender.js';

type Handler = (event: unknown) => Promise<void>;

let fetchHandler: Handler | undefined;
let sendHandler: Handler | undefined;

function fetcher(): Handler {
  if (fetchHandler === undefined) {
    const config = instanceConfig('cloud-fetcher');
    fetchHandler = createFetchHandler({
      config,
      logger: functionLogger(config, 'fetchIocStream'),
      gti: createGtiClient({
        baseUrl: config.gti.baseUrl,
        apiKey: createApiKeyProvider(config),
        timeoutMs: config.http.timeoutMs,
        retry: retryPolicy(config),
        requestsPerMinute: config.gti.requestsPerMinute,
      }),
      state: createFirestoreState(firestoreSettings(config)),
      publisher: createPublisher(pubSubSettings(config)),
    });
  }
  return fetchHandler;
}

function sender(): Handler {
  if (sendHandler === undefined) {
    const config = instanceConfig('cloud-sender');
    const target = chronicleTarget(config);
    sendHandler = createSendHandler({
      config,
      logger: functionLogger(config, 'sendToChronicle'),
      importer: createChronicleClient({
        target,
        getToken: createAccessTokenProvider(target.projectId),
        timeoutMs: config.http.timeoutMs,
      }),
      publisher: createPublisher(pubSubSettings(config)),
    });
  }
  return sendHandler;
}

/** A configuration problem, logged as the invocation's one line. */
function logConfigFailure(name: string, event: string, error: unknown): void {
  functionLogger(undefined, name).error(event === 'fetch_run' ? 'fetch run finished' : 'chunk processed', {
    event,
    outcome: event === 'fetch_run' ? 'failed' : 'retry',
    error: describeError(error),
  });
}

export async function fetchIocStream(event: CloudEvent<unknown>): Promise<void> {
  let handler: Handler;
  try {
    handler = fetcher();
  } catch (error) {
    logConfigFailure('fetchIocStream', 'fetch_run', error);
    // Redelivering a trigger cannot fix the configuration: acknowledge; the alert reports it.
    if (error instanceof ConfigError) return;
    throw error;
  }
  await handler(event);
}

export async function sendToChronicle(event: CloudEvent<unknown>): Promise<void> {
  let handler: Handler;
  try {
    handler = sender();
  } catch (error) {
    logConfigFailure('sendToChronicle', 'chunk_processed', error);
    // Keep the chunk: Pub/Sub retries, then dead-letters it for a replay after the fix.
    throw error;
  }
  await handler(event);
}

cloudEvent('fetchIocStream', fetchIocStream);
cloudEvent('sendToChronicle', sendToChronicle);
