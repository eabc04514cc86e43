/** `p2pnet clean`: removes the node log folders of one log directory, and nothing else. */

import { join } from "node:path";

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
