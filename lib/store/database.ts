/**
 * A node's database: one SQLite file, `<dataDir>/p2pnet.db`, opened through `node:sqlite`.
 * It is recognised by its application id and its schema version (never by its name
 * alone), held by one node at a time (exclusive locking), and written in WAL mode. A file
 * that is not a p2pnet database, or is damaged, is refused with a {@link DataDirError};
 * nothing here ever deletes or rewrites a file it did not recognise.
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import type { NodeRole } from "../log/node_files.ts";

/** The database's file name in a data directory. */
export const DATABASE_FILE = "p2pnet.db";
/** `PRAGMA application_id` of a p2pnet database: "p2pn" in ASCII. */
export const APPLICATION_ID = 0x7032706e;
/** `PRAGMA user_version` of the schema below; a newer one is refused. */
export const SCHEMA_VERSION = 1;

/** SQLite result codes met when opening (sqlite.org/rescode.html). */
const SQLITE_BUSY = 5;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/**
 * Messages and dropped ids are kept in the order the peer saw them and have no index on
 * their id: a random id would cost each insert a second, random B-tree write. The store
 * drops its oldest message first, which is the row of the smallest `seq`.
 */
const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE identity (slot INTEGER PRIMARY KEY CHECK (slot = 1), pkcs8 BLOB NOT NULL);
  CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL);
  CREATE TABLE seen (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, seen_at REAL NOT NULL);
  CREATE TABLE peers (addr TEXT PRIMARY KEY);
  CREATE TABLE registrations (addr TEXT PRIMARY KEY, registered_at REAL NOT NULL, node_id TEXT);
`;

/** A data directory that cannot be used; the message is one line saying what to do. */
export class DataDirError extends Error {
  override name = "DataDirError";
  constructor(readonly dataDir: string, message: string, options: { cause?: unknown } = {}) {
    super(`data directory ${dataDir}: ${message}`, options);
  }
}

/** The SQLite result code of an error thrown by node:sqlite, if it is one. */
export function sqliteCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === "number" ? code & 0xff : undefined;
}

/** Why an SQLite error means the file cannot be used, in words; undefined for other errors. */
function refusal(error: unknown): string | undefined {
  const detail = (error as Error).message;
  switch (sqliteCode(error)) {
    case SQLITE_NOTADB:
      return `${DATABASE_FILE} is not an SQLite database (${detail}): it may be damaged; ` +
        "move it away to start afresh, or choose another --data-dir";
    case SQLITE_CORRUPT:
      return `${DATABASE_FILE} is damaged (${detail}); move it away to start afresh ` +
        "(a peer catches up on its messages from the network)";
    case SQLITE_BUSY:
      return `${DATABASE_FILE} is in use by another p2pnet node (${detail}); give each node a directory of its own`;
  }
  return undefined;
}

/** Runs `body`, turning an SQLite error that makes the file unusable into a {@link DataDirError}. */
export function guard<T>(dataDir: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    const why = refusal(error);
    if (why !== undefined) throw new DataDirError(dataDir, why, { cause: error });
    throw error;
  }
}

/**
 * Opens the database of `role` in `dataDir`, creating the directory (mode 0700) and the
 * file (mode 0600: it holds the node's key) when absent. Throws {@link DataDirError}.
 */
export function openDatabase(dataDir: string, role: NodeRole): DatabaseSync {
  const path = join(dataDir, DATABASE_FILE);
  createFile(dataDir, path);
  const db = new DatabaseSync(path);
  try {
    guard(dataDir, () => prepare(db, dataDir, role));
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Creates the directory and an empty database file readable by its owner only, unless they exist. */
function createFile(dataDir: string, path: string): void {
  try {
    Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    Deno.writeFileSync(path, new Uint8Array(), { createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw new DataDirError(dataDir, `cannot create ${DATABASE_FILE}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const info = Deno.statSync(path);
  if (!info.isFile) throw new DataDirError(dataDir, `${DATABASE_FILE} is not a file`);
  const mode = (info.mode ?? 0) & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new DataDirError(
      dataDir,
      `${DATABASE_FILE} is readable by others (mode ${mode.toString(8)}): run chmod 600 ${path}`,
    );
  }
}

/** Takes the file for this node alone, checks it is this role's p2pnet database (or creates one in an empty file). */
function prepare(db: DatabaseSync, dataDir: string, role: NodeRole): void {
  // Held from the first read to close: a second node on the same file fails at once (SQLITE_BUSY).
  db.exec("PRAGMA locking_mode = EXCLUSIVE");
  const appId = pragma(db, "application_id");
  if (appId === 0) {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all()
      .map((row) => String(row.name));
    if (tables.length > 0) {
      throw new DataDirError(
        dataDir,
        `${DATABASE_FILE} is an SQLite database of another application (tables ${tables.join(", ")}); ` +
          "p2pnet leaves it alone: choose another --data-dir",
      );
    }
  } else if (appId !== APPLICATION_ID) {
    throw new DataDirError(
      dataDir,
      `${DATABASE_FILE} is an SQLite database of another application (application id 0x${
        appId.toString(16)
      }); p2pnet leaves it alone: choose another --data-dir`,
    );
  }
  // Created before WAL mode, so the application id is in the file's own header at once; without
  // waiting for the disk: a creation cut short by a power cut leaves a file refused as damaged, or empty.
  if (appId === 0) {
    db.exec("PRAGMA synchronous = OFF");
    create(db, role);
  }
  db.exec("PRAGMA journal_mode = WAL");
  // A commit survives the process being killed; the last ones may roll back on a power cut.
  db.exec("PRAGMA synchronous = NORMAL");
  if (appId === 0) return;
  const version = pragma(db, "user_version");
  if (version > SCHEMA_VERSION) {
    throw new DataDirError(
      dataDir,
      `${DATABASE_FILE} has schema version ${version}, from a newer p2pnet (this one knows ${SCHEMA_VERSION}); ` +
        "run that version, or choose another --data-dir",
    );
  }
  const check = String(db.prepare("PRAGMA quick_check(1)").get()?.quick_check ?? "");
  if (check !== "ok") {
    const first = check.split("\n").filter((line) => !line.startsWith("***")).join("; ");
    throw new DataDirError(
      dataDir,
      `${DATABASE_FILE} is damaged (${first}); move it away to start afresh ` +
        "(a peer catches up on its messages from the network)",
    );
  }
  const owner = db.prepare("SELECT value FROM meta WHERE key = 'role'").get()?.value;
  if (owner !== role) {
    throw new DataDirError(
      dataDir,
      `it holds a ${String(owner)}'s data, and this node is a ${role}; give each node a directory of its own`,
    );
  }
}

function create(db: DatabaseSync, role: NodeRole): void {
  db.exec("BEGIN");
  db.exec(SCHEMA);
  db.prepare("INSERT INTO meta (key, value) VALUES ('role', ?)").run(role);
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  db.exec("COMMIT");
}

function pragma(db: DatabaseSync, name: string): number {
  return Number(db.prepare(`PRAGMA ${name}`).get()?.[name] ?? 0);
}

/** The first bytes of every SQLite file; the application id follows at {@link APP_ID_OFFSET}. */
const SQLITE_MAGIC = "SQLite format 3\0";
const APP_ID_OFFSET = 68;

/**
 * Whether `dir` holds a p2pnet database, read from the file's header before opening it
 * as a database (a foreign file is left exactly as it was), and whether a node holds it
 * now: what `p2pnet clean --data` asks before it removes anything. Undefined when there is
 * no database file; otherwise `{ ok: false, why }` says why it is not to be removed.
 */
export function recognise(dir: string): { ok: true } | { ok: false; why: string } | undefined {
  const path = join(dir, DATABASE_FILE);
  let header: Uint8Array;
  try {
    if (!Deno.lstatSync(path).isFile) return { ok: false, why: `${DATABASE_FILE} is not a file` };
    using file = Deno.openSync(path, { read: true });
    header = new Uint8Array(APP_ID_OFFSET + 4);
    let got = 0;
    while (got < header.length) {
      const n = file.readSync(header.subarray(got));
      if (n === null) break;
      got += n;
    }
    header = header.subarray(0, got);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const magic = new TextDecoder().decode(header.subarray(0, SQLITE_MAGIC.length));
  if (header.length < APP_ID_OFFSET + 4 || magic !== SQLITE_MAGIC) {
    return { ok: false, why: `${DATABASE_FILE} is not an SQLite database` };
  }
  const appId = new DataView(header.buffer, header.byteOffset).getUint32(APP_ID_OFFSET);
  if (appId !== APPLICATION_ID) {
    return { ok: false, why: `${DATABASE_FILE} has application id 0x${appId.toString(16)}, not p2pnet's` };
  }
  // Only now, the file being p2pnet's, opened as a database: a read fails at once while a node holds it
  // (read-only, it would wait for the lock).
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    pragma(db, "application_id");
  } catch (error) {
    if (sqliteCode(error) === SQLITE_BUSY) {
      return { ok: false, why: "a running node holds it; stop it first" };
    }
  } finally {
    db?.close();
  }
  return { ok: true };
}
