/**
 * Chronicle resource names and URLs, built in one place: the instance
 * `projects/{p}/locations/{r}/instances/{c}`, the forwarder under it, and the URL of a method on
 * the instance or on the configured log type (`{base}/{version}/{instance}/...`; REST reference,
 * projects.locations.instances).
 */
import type { Config } from '../core/config.js';
import { ChroniclePermanentError } from '../core/errors.js';

export interface ChronicleInstance {
  readonly projectId: string;
  readonly region: string;
  readonly customerId: string;
}

/** Where Chronicle calls go: the instance, the API base and version, the log type. */
export interface ChronicleTarget extends ChronicleInstance {
  readonly baseUrl: string;
  readonly apiVersion: string;
  readonly logType: string;
}

export function chronicleTarget(config: Config): ChronicleTarget {
  const { projectId, customerId } = config.chronicle;
  if (projectId === undefined || customerId === undefined) {
    throw new ChroniclePermanentError(
      'CHRONICLE_CUSTOMER_ID and a project id are required to send to Chronicle',
      {},
    );
  }
  return {
    baseUrl: config.chronicle.baseUrl,
    apiVersion: config.chronicle.apiVersion,
    projectId,
    region: config.chronicle.region,
    customerId,
    logType: config.chronicle.logType,
  };
}

export function instanceName(i: ChronicleInstance): string {
  return `projects/${i.projectId}/locations/${i.region}/instances/${i.customerId}`;
}

export function forwarderName(i: ChronicleInstance, forwarderId: string): string {
  return `${instanceName(i)}/forwarders/${forwarderId}`;
}

/** The forwarder resource name configured for imports, or undefined when none is. */
export function configuredForwarder(chronicle: {
  readonly projectId: string | undefined;
  readonly region: string;
  readonly customerId: string | undefined;
  readonly forwarderId: string | undefined;
}): string | undefined {
  const { projectId, customerId, forwarderId } = chronicle;
  if (!projectId || !customerId || !forwarderId) return undefined;
  return forwarderName({ projectId, region: chronicle.region, customerId }, forwarderId);
}

/** URL of `path` under the instance, e.g. `nativeDashboards:import`. */
export function instanceUrl(t: ChronicleTarget, path: string): string {
  return `${t.baseUrl}/${t.apiVersion}/${instanceName(t)}/${path}`;
}

/** URL of a method on the target's log type: `suffix` is e.g. `/logs:import` or `:runParser`. */
export function logTypeUrl(t: ChronicleTarget, suffix: string): string {
  return instanceUrl(t, `logTypes/${t.logType}${suffix}`);
}
