/**
 * Cloud state in Firestore: one document per stream holding its checkpoint and its fetch lease.
 *
 *   ioc_stream_state/{name}  { checkpoint: {date, ids, readToEndAt?}, checkpointUpdatedAt, holder, expiresAtMs, acquiredAt }
 *
 * Every write is a compare-and-set on the document's update time (a precondition checked atomically
 * by Firestore): the lease is taken only if the document is unchanged since it was read and free or
 * expired; renewals, checkpoint saves and the release each require that nobody wrote since our own
 * last write. So a fetcher that lost its lease (paused past expiry while another took over) can
 * never move the checkpoint, and — unlike a read-write transaction, whose pessimistic locks outlive
 * a crashed holder — a fetcher killed mid-write leaves nothing locked: the lease simply expires.
 * The library is imported and the client created on first use; FIRESTORE_EMULATOR_HOST
 * (config.firestore.emulatorHost) selects the emulator.
 */
import type { DocumentReference, DocumentSnapshot, Firestore, Timestamp } from '@google-cloud/firestore';
import type { Config } from '../core/config.js';
import { CheckpointError, ConfigError, GRPC, grpcCode } from '../core/errors.js';
import {
  type Checkpoint,
  type CheckpointStore,
  checkpointDocument,
  readCheckpoint,
} from '../pipeline/checkpoint.js';

export const STATE_COLLECTION = 'ioc_stream_state';
/** Renewals never come closer together than this. */
const RENEW_MIN_MS = 500;

export interface FirestoreSettings {
  readonly projectId: string;
  readonly databaseId: string;
  readonly emulatorHost: string | undefined;
}

export function firestoreSettings(config: Config): FirestoreSettings {
  if (config.gcpProjectId === undefined) throw new ConfigError(['GCP_PROJECT_ID: required for Firestore']);
  return {
    projectId: config.gcpProjectId,
    databaseId: config.firestore.database,
    emulatorHost: config.firestore.emulatorHost,
  };
}

/**
 * A lease we hold: the checkpoint as read when it was taken, fenced saves and release. It keeps
 * itself alive: renewed every third of its length until released; if a renewal fails, `lost` is
 * aborted with the error as its reason (the run stops: someone else may hold it by now).
 */
export interface HeldLease {
  readonly checkpoint: Checkpoint | undefined;
  readonly expiresAtMs: number;
  /** Saves only while the lease is ours (CheckpointError otherwise). */
  readonly store: CheckpointStore;
  /** Aborted when a renewal failed; its `reason` is the error. */
  readonly lost: AbortSignal;
  /** Stops the renewals and gives the lease up. */
  release(): Promise<void>;
}

export type LeaseResult =
  | { readonly acquired: true; readonly lease: HeldLease }
  | { readonly acquired: false; readonly holder: string; readonly expiresAtMs: number };

export interface FirestoreState {
  /** Unfenced access to a stream's checkpoint (operators, tests). */
  /** Takes the lease of stream `name` for `seconds`, unless someone else holds an unexpired one. */
  acquireLease(name: string, holder: string, seconds: number): Promise<LeaseResult>;
  close(): Promise<void>;
}

interface StateDoc {
  checkpoint?: unknown;
  holder?: unknown;
  expiresAtMs?: unknown;
}

function wrap(error: unknown, what: string): CheckpointError {
  if (error instanceof CheckpointError) return error;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
  // PERMISSION_DENIED, NOT_FOUND (database missing) and UNAUTHENTICATED cannot heal alone.
  const code = grpcCode(error);
  const permanent =
    code === GRPC.PERMISSION_DENIED || code === GRPC.NOT_FOUND || code === GRPC.UNAUTHENTICATED;
  return new CheckpointError(`Firestore ${what} failed: ${message}`, !permanent, { cause: error });
}

function checkpointOf(snap: DocumentSnapshot, name: string): Checkpoint | undefined {
  const data = snap.data() as StateDoc | undefined;
  if (data?.checkpoint === undefined || data.checkpoint === null) return undefined;
  const checkpoint = readCheckpoint(data.checkpoint);
  if (checkpoint === undefined) {
    throw new CheckpointError(
      `Checkpoint in ${STATE_COLLECTION}/${name} lacks an integer "date" and an "ids" list; fix or delete it`,
      false,
    );
  }
  return checkpoint;
}

function checkpointFields(checkpoint: Checkpoint, at: number) {
  return {
    checkpoint: checkpointDocument(checkpoint),
    checkpointUpdatedAt: new Date(at).toISOString(),
  };
}

/**
 * Unfenced one-off read of a stream's checkpoint (operators: `ioc-stream doctor`); never writes.
 * Throws CheckpointError (retryable unless the database is missing or access is denied).
 */
export async function readStreamCheckpoint(
  settings: FirestoreSettings,
  name: string,
): Promise<Checkpoint | undefined> {
  const { Firestore } = await import('@google-cloud/firestore');
  const firestore = new Firestore(firestoreOptions(settings));
  try {
    return checkpointOf(await firestore.collection(STATE_COLLECTION).doc(name).get(), name);
  } catch (error) {
    throw wrap(error, 'checkpoint read');
  } finally {
    await firestore.terminate().catch(() => undefined);
  }
}

function firestoreOptions(settings: FirestoreSettings) {
  return {
    projectId: settings.projectId,
    databaseId: settings.databaseId,
    ...(settings.emulatorHost === undefined ? {} : { host: settings.emulatorHost, ssl: false }),
  };
}

export function createFirestoreState(
  settings: FirestoreSettings,
  now: () => number = Date.now,
): FirestoreState {
  let client: Promise<Firestore> | undefined;
  const db = (): Promise<Firestore> => {
    client ??= import('@google-cloud/firestore').then(
      ({ Firestore }) => new Firestore(firestoreOptions(settings)),
    );
    return client;
  };
  const doc = async (name: string): Promise<DocumentReference> =>
    (await db()).collection(STATE_COLLECTION).doc(name);
  const description = (name: string) => `firestore ${settings.databaseId}/${STATE_COLLECTION}/${name}`;

  const held = (
    ref: DocumentReference,
    seconds: number,
    checkpoint: Checkpoint | undefined,
    expiresAtMs: number,
    writeTime: Timestamp,
  ): HeldLease => {
    let last = writeTime;
    let queue: Promise<unknown> = Promise.resolve();
    // Our writes go one at a time, each conditional on our previous one.
    const write = (what: string, fields: Record<string, unknown>): Promise<void> => {
      const next = queue.then(async () => {
        try {
          const result = await ref.update(fields, { lastUpdateTime: last });
          last = result.writeTime;
        } catch (error) {
          if (grpcCode(error) === GRPC.FAILED_PRECONDITION || grpcCode(error) === GRPC.NOT_FOUND) {
            throw new CheckpointError(
              `lease on ${ref.id} was lost (another run took it over after it expired); ${what} refused`,
              false,
            );
          }
          throw wrap(error, what);
        }
      });
      queue = next.catch(() => undefined);
      return next;
    };
    const lost = new AbortController();
    const renewal = setInterval(
      () => {
        write('lease renewal', { expiresAtMs: now() + seconds * 1000 }).catch((error: unknown) => {
          clearInterval(renewal);
          if (!lost.signal.aborted) lost.abort(error);
        });
      },
      Math.max(RENEW_MIN_MS, (seconds * 1000) / 3),
    );
    renewal.unref();
    return {
      checkpoint,
      expiresAtMs,
      store: {
        description: description(ref.id),
        load: async () => checkpoint,
        save: (mark) => write('checkpoint save', checkpointFields(mark, now())),
      },
      lost: lost.signal,
      release: () => {
        clearInterval(renewal);
        return write('lease release', { holder: null, expiresAtMs: 0 });
      },
    };
  };

  return {
    async acquireLease(name, holder, seconds) {
      try {
        const ref = await doc(name);
        const snap = await ref.get();
        const data = snap.data() as StateDoc | undefined;
        const current = typeof data?.holder === 'string' ? data.holder : undefined;
        const currentExpiry = typeof data?.expiresAtMs === 'number' ? data.expiresAtMs : 0;
        const t = now();
        if (current !== undefined && current !== holder && currentExpiry > t) {
          return { acquired: false, holder: current, expiresAtMs: currentExpiry };
        }
        const checkpoint = checkpointOf(snap, name);
        const expiresAtMs = t + seconds * 1000;
        const fields = { holder, expiresAtMs, acquiredAt: new Date(t).toISOString() };
        try {
          const result =
            snap.updateTime === undefined
              ? await ref.create(fields)
              : await ref.update(fields, { lastUpdateTime: snap.updateTime });
          return {
            acquired: true,
            lease: held(ref, seconds, checkpoint, expiresAtMs, result.writeTime),
          };
        } catch (error) {
          const code = grpcCode(error);
          if (code !== GRPC.FAILED_PRECONDITION && code !== GRPC.ALREADY_EXISTS) throw error;
          // Someone wrote between our read and our write: they took it.
          const again = (await ref.get()).data() as StateDoc | undefined;
          return {
            acquired: false,
            holder: typeof again?.holder === 'string' ? again.holder : 'unknown',
            expiresAtMs: typeof again?.expiresAtMs === 'number' ? again.expiresAtMs : 0,
          };
        }
      } catch (error) {
        throw wrap(error, 'lease acquire');
      }
    },

    async close() {
      if (client === undefined) return;
      const firestore = await client;
      client = undefined;
      await firestore.terminate();
    },
  };
}
