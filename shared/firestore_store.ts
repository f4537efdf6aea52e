/**
 * Cloud state in Firestore: the checkpoint (a CheckpointStore) and the fetch lease.
 *
 *   ioc_stream_checkpoints/{name}  { date, ids, updatedAt, holder }
 *   ioc_stream_leases/{name}       { holder, expiresAtMs, acquiredAt }
 *
 * The lease is taken, renewed and released in transactions, and expires on its own when its holder
 * dies. A checkpoint save made under a lease is fenced: it runs in a transaction that first checks
 * the lease is still ours, so a fetcher that lost its lease (paused past expiry) can never move the
 * checkpoint of the one that took over. The library is imported and the client created on first
 * use; FIRESTORE_EMULATOR_HOST (config.firestore.emulatorHost) selects the emulator.
 */
import type { DocumentReference, Firestore, Transaction } from '@google-cloud/firestore';
import { type Checkpoint, type CheckpointStore, isCheckpoint } from './checkpoint.js';
import type { Config } from './config.js';
import { CheckpointError, ConfigError } from './errors.js';

export const CHECKPOINT_COLLECTION = 'ioc_stream_checkpoints';
export const LEASE_COLLECTION = 'ioc_stream_leases';

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

export type LeaseResult =
  | { readonly acquired: true; readonly expiresAtMs: number }
  | { readonly acquired: false; readonly holder: string; readonly expiresAtMs: number };

export interface FirestoreState {
  /** The checkpoint document `name`; saves are fenced by `leaseHolder`'s lease when given. */
  checkpointStore(name: string, fence?: { lease: string; holder: string }): CheckpointStore;
  /** Takes lease `name` for `seconds` unless someone else holds an unexpired one. */
  acquireLease(name: string, holder: string, seconds: number): Promise<LeaseResult>;
  /** Extends our lease; throws a CheckpointError when it is no longer ours. */
  renewLease(name: string, holder: string, seconds: number): Promise<number>;
  /** Gives the lease up if it is still ours. */
  releaseLease(name: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

interface LeaseDoc {
  holder?: unknown;
  expiresAtMs?: unknown;
}

function wrap(error: unknown, what: string): CheckpointError {
  if (error instanceof CheckpointError) return error;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
  // gRPC 7 PERMISSION_DENIED, 5 NOT_FOUND (database missing), 16 UNAUTHENTICATED cannot heal alone.
  const code = (error as { code?: unknown }).code;
  const permanent = code === 7 || code === 5 || code === 16;
  return new CheckpointError(`Firestore ${what} failed: ${message}`, !permanent, { cause: error });
}

export function createFirestoreState(
  settings: FirestoreSettings,
  now: () => number = Date.now,
): FirestoreState {
  let client: Promise<Firestore> | undefined;
  const db = (): Promise<Firestore> => {
    client ??= import('@google-cloud/firestore').then(
      ({ Firestore }) =>
        new Firestore({
          projectId: settings.projectId,
          databaseId: settings.databaseId,
          ...(settings.emulatorHost === undefined ? {} : { host: settings.emulatorHost, ssl: false }),
        }),
    );
    return client;
  };
  const leaseRef = async (name: string) => (await db()).collection(LEASE_COLLECTION).doc(name);
  const holderOf = (data: LeaseDoc | undefined) => {
    const holder = typeof data?.holder === 'string' ? data.holder : undefined;
    const expiresAtMs = typeof data?.expiresAtMs === 'number' ? data.expiresAtMs : 0;
    return { holder, expiresAtMs };
  };
  const assertHolder = async (
    tx: Transaction,
    ref: DocumentReference,
    holder: string,
  ): Promise<{ expiresAtMs: number }> => {
    const snap = await tx.get(ref);
    const current = holderOf(snap.data() as LeaseDoc | undefined);
    if (current.holder !== holder) {
      throw new CheckpointError(
        `lease ${ref.id} is no longer ours (held by ${current.holder ?? 'nobody'}); stopping`,
        false,
      );
    }
    return current;
  };

  return {
    checkpointStore(name, fence) {
      return {
        description: `firestore ${settings.databaseId}/${CHECKPOINT_COLLECTION}/${name}`,
        async load(): Promise<Checkpoint | undefined> {
          let data: unknown;
          try {
            const snap = await (await db()).collection(CHECKPOINT_COLLECTION).doc(name).get();
            data = snap.data();
          } catch (error) {
            throw wrap(error, 'checkpoint read');
          }
          if (data === undefined) return undefined;
          if (!isCheckpoint(data)) {
            throw new CheckpointError(
              `Checkpoint document ${CHECKPOINT_COLLECTION}/${name} lacks an integer "date" and an "ids" list; fix or delete it`,
              false,
            );
          }
          return { date: data.date, ids: [...data.ids] };
        },
        async save(checkpoint: Checkpoint): Promise<void> {
          const doc = {
            date: checkpoint.date,
            ids: [...checkpoint.ids],
            updatedAt: new Date(now()).toISOString(),
            ...(fence ? { holder: fence.holder } : {}),
          };
          try {
            const firestore = await db();
            const ref = firestore.collection(CHECKPOINT_COLLECTION).doc(name);
            if (fence === undefined) {
              await ref.set(doc);
              return;
            }
            const lease = firestore.collection(LEASE_COLLECTION).doc(fence.lease);
            await firestore.runTransaction(async (tx) => {
              await assertHolder(tx, lease, fence.holder);
              tx.set(ref, doc);
            });
          } catch (error) {
            throw wrap(error, 'checkpoint save');
          }
        },
      };
    },

    async acquireLease(name, holder, seconds) {
      try {
        const ref = await leaseRef(name);
        return await (await db()).runTransaction(async (tx): Promise<LeaseResult> => {
          const current = holderOf((await tx.get(ref)).data() as LeaseDoc | undefined);
          const t = now();
          if (current.holder !== undefined && current.holder !== holder && current.expiresAtMs > t) {
            return { acquired: false, holder: current.holder, expiresAtMs: current.expiresAtMs };
          }
          const expiresAtMs = t + seconds * 1000;
          tx.set(ref, { holder, expiresAtMs, acquiredAt: new Date(t).toISOString() });
          return { acquired: true, expiresAtMs };
        });
      } catch (error) {
        throw wrap(error, 'lease acquire');
      }
    },

    async renewLease(name, holder, seconds) {
      try {
        const ref = await leaseRef(name);
        return await (await db()).runTransaction(async (tx) => {
          await assertHolder(tx, ref, holder);
          const expiresAtMs = now() + seconds * 1000;
          tx.update(ref, { expiresAtMs });
          return expiresAtMs;
        });
      } catch (error) {
        throw wrap(error, 'lease renewal');
      }
    },

    async releaseLease(name, holder) {
      try {
        const ref = await leaseRef(name);
        await (await db()).runTransaction(async (tx) => {
          const current = holderOf((await tx.get(ref)).data() as LeaseDoc | undefined);
          if (current.holder === holder) tx.delete(ref);
        });
      } catch (error) {
        throw wrap(error, 'lease release');
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
