/**
 * `p2pnet clean`: removes the node log folders of one log directory, or (`--data`) the
 * data directories of nodes, and nothing else.
 */

import { join } from "node:path";
import { DATABASE_FILE, recognise } from "../store/database.ts";

/** The folders under a log directory that p2pnet writes; clean removes exactly these. */
export const NODE_FOLDERS = ["seeds", "peers"] as const;

export interface RemovedFolder {
  path: string;
  files: number;
  bytes: number;
}

/** Counts files and bytes below `path` without following symbolic links. */
async function measure(path: string): Promise<{ files: number; bytes: number }> {
  const info = await Deno.lstat(path);
  if (!info.isDirectory) return { files: 1, bytes: info.size };
  let files = 0;
  let bytes = 0;
  for await (const entry of Deno.readDir(path)) {
    const inner = await measure(join(path, entry.name));
    files += inner.files;
    bytes += inner.bytes;
  }
  return { files, bytes };
}

/**
 * Removes `seeds/` and `peers/` under `logDir` and returns what was removed. A
 * symbolic link in their place is removed as a link; its target is not touched.
 */
export async function cleanLogs(logDir: string): Promise<RemovedFolder[]> {
  const removed: RemovedFolder[] = [];
  for (const name of NODE_FOLDERS) {
    const path = join(logDir, name);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const { files, bytes } = info.isSymlink ? { files: 1, bytes: 0 } : await measure(path);
    await Deno.remove(path, { recursive: !info.isSymlink });
    removed.push({ path, files, bytes });
  }
  return removed;
}

/** The files p2pnet writes in a data directory; `clean --data` removes exactly these. */
export const DATA_FILES = [
  DATABASE_FILE,
  `${DATABASE_FILE}-wal`,
  `${DATABASE_FILE}-shm`,
  `${DATABASE_FILE}-journal`,
  "node.key",
] as const;

/** A directory `clean --data` will not touch; the message says why. */
export class CleanError extends Error {
  override name = "CleanError";
}

/** What `clean --data` removed from one data directory, and whether the directory itself went too. */
export interface CleanedDir extends RemovedFolder {
  /** False when the directory stayed because it holds files p2pnet did not write. */
  removedDir: boolean;
}

/** What `clean --data` did: the data directories it cleaned, and the directories named that held none. */
export interface CleanedData {
  removed: CleanedDir[];
  nothing: string[];
}

/**
 * Removes the p2pnet data directories `dirs`; a directory that holds none itself but
 * holds one per folder (as `p2pnet seed` leaves it) has each of those removed. A data
 * directory is recognised by its database's application id ({@link recognise}), never
 * by name: anything else is refused with a {@link CleanError}, and then nothing at all
 * is removed. Only the {@link DATA_FILES} are removed, then each directory this leaves empty.
 */
export async function cleanData(dirs: readonly string[]): Promise<CleanedData> {
  const plans = [];
  for (const dir of dirs) plans.push({ dir, ...await planClean(dir) });
  const result: CleanedData = { removed: [], nothing: [] };
  for (const { dir, targets, folder } of plans) {
    if (targets.length === 0) result.nothing.push(dir);
    for (const target of targets) result.removed.push(await removeDataFiles(target));
    // The folder that held one data directory per seed goes too, if nothing else is in it.
    if (folder && targets.length > 0) await removeIfEmpty(dir);
  }
  return result;
}

/** The data directories `dir` is or holds (`folder`: it holds them); throws {@link CleanError} for anything else. */
async function planClean(dir: string): Promise<{ targets: string[]; folder: boolean }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { targets: [], folder: false };
    throw error;
  }
  if (!info.isDirectory) throw new CleanError(`${dir} is not a directory; nothing removed`);
  const refuse = (why: string) =>
    new CleanError(`${dir} is not a p2pnet data directory: ${why}; nothing removed`);
  const own = recognise(dir);
  if (own !== undefined) {
    if (!own.ok) throw refuse(own.why);
    return { targets: [dir], folder: false };
  }
  const targets: string[] = [];
  let entries = 0;
  for await (const entry of Deno.readDir(dir)) {
    entries++;
    if (!entry.isDirectory) continue;
    const inner = recognise(join(dir, entry.name));
    if (inner !== undefined && !inner.ok) throw refuse(`${entry.name}: ${inner.why}`);
    if (inner !== undefined) targets.push(join(dir, entry.name));
  }
  if (targets.length === 0 && entries > 0) throw refuse(`it holds no ${DATABASE_FILE}, nor do its folders`);
  return { targets: targets.sort(), folder: true };
}

async function removeDataFiles(dir: string): Promise<CleanedDir> {
  let files = 0;
  let bytes = 0;
  for (const name of DATA_FILES) {
    const path = join(dir, name);
    try {
      const info = await Deno.lstat(path);
      if (info.isDirectory) continue;
      await Deno.remove(path);
      files++;
      bytes += info.size;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return { path: dir, files, bytes, removedDir: await removeIfEmpty(dir) };
}

/** Removes `dir` if it is empty; false if it is not. */
async function removeIfEmpty(dir: string): Promise<boolean> {
  for await (const _ of Deno.readDir(dir)) return false;
  await Deno.remove(dir);
  return true;
}
