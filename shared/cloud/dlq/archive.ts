/** The local NDJSON archive a purge writes (and fsyncs) before it acknowledges anything. */
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DlqMessage } from './message.js';

// ---------------------------------------------------------------------------------------------
// Archive (dlq purge)

export interface ArchiveRecord {
  id: string;
  publishTime: string | undefined;
  attributes: Record<string, string>;
  /** Base64 of the message data. */
  data: string;
}

export function archiveRecord(message: DlqMessage): ArchiveRecord {
  return {
    id: message.messageId,
    publishTime: message.publishTime?.toISOString(),
    attributes: { ...message.attributes },
    data: message.data.toString('base64'),
  };
}

export function defaultArchivePath(outputDir: string, now: Date): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return `${outputDir.replace(/\/+$/, '')}/dlq-archive-${stamp}.ndjson`;
}

/** An append-only NDJSON file; `append` returns only after the lines are fsynced. */
export interface Archive {
  readonly path: string;
  append(records: readonly ArchiveRecord[]): Promise<void>;
  close(): Promise<void>;
}

export async function openArchive(path: string): Promise<Archive> {
  await mkdir(dirname(path), { recursive: true });
  const file: FileHandle = await open(path, 'a');
  // Make the new directory entry durable too, so a crash right after cannot lose the file.
  try {
    const dir = await open(dirname(path), 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    // Some filesystems refuse to fsync a directory; the file's own fsync still holds its lines.
  }
  return {
    path,
    async append(records) {
      if (records.length === 0) return;
      await file.writeFile(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await file.sync();
    },
    close: () => file.close(),
  };
}
