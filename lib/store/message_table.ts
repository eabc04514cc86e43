/**
 * A peer's messages on disk: one row per stored message (its id, and the message as JSON),
 * in the order first seen, and the ids of messages dropped from the store with when they
 * were first seen. Writes are queued and committed together, one transaction per batch.
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** A queued write: a message stored, or one dropped (its id kept as seen). */
type Write = { add: true; id: string; body: string } | { add: false; id: string; seenAt: number };

/**
 * Rows of the insert statements, largest first: stored messages in a row go in as few
 * statements as these sizes allow, since each call into SQLite costs more than a row.
 */
const INSERT_ROWS = [32, 8, 1] as const;

/** What a peer kept: message bodies oldest first, and the ids of dropped messages, oldest first. */
export interface SavedMessages {
  bodies: string[];
  seen: { id: string; seenAt: number }[];
}

export class MessageTable {
  readonly #db: DatabaseSync;
  /** By {@link INSERT_ROWS}: the statement that inserts that many rows. */
  readonly #inserts: StatementSync[];
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #deleteOldest: StatementSync;
  readonly #delete: StatementSync;
  readonly #seen: StatementSync;
  #writes: Write[] = [];

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#inserts = INSERT_ROWS.map((rows) =>
      db.prepare(`INSERT INTO messages (id, body) VALUES ${Array(rows).fill("(?, ?)").join(", ")}`)
    );
    this.#begin = db.prepare("BEGIN");
    this.#commit = db.prepare("COMMIT");
    this.#deleteOldest = db.prepare(
      "DELETE FROM messages WHERE seq = (SELECT MIN(seq) FROM messages) AND id = ?",
    );
    this.#delete = db.prepare("DELETE FROM messages WHERE id = ?");
    this.#seen = db.prepare("INSERT INTO seen (id, seen_at) VALUES (?, ?)");
  }

  /**
   * The stored messages, and the ids of dropped ones first seen at or after `seenSince`
   * (wall-clock milliseconds), at most the `seenLimit` newest.
   */
  load(seenSince: number, seenLimit: number): SavedMessages {
    const bodies = this.#db.prepare("SELECT body FROM messages ORDER BY seq").all().map((r) =>
      String(r.body)
    );
    const seen = this.#db.prepare("SELECT id, seen_at FROM seen WHERE seen_at >= ? ORDER BY seq DESC LIMIT ?")
      .all(seenSince, seenLimit).map((r) => ({ id: String(r.id), seenAt: Number(r.seen_at) })).reverse();
    return { bodies, seen };
  }

  /** Writes waiting for {@link commit}. */
  get pending(): number {
    return this.#writes.length;
  }

  /** Queues a stored message: `body` is what {@link load} gives back. */
  add(id: string, body: string): void {
    this.#writes.push({ add: true, id, body });
  }

  /** Queues the removal of a dropped message (normally the oldest), its id kept as seen at `seenAt`. */
  drop(id: string, seenAt: number): void {
    this.#writes.push({ add: false, id, seenAt });
  }

  /** Writes everything queued in one transaction; on failure nothing is written and the queue is kept. */
  commit(): void {
    const writes = this.#writes;
    if (writes.length === 0) return;
    this.#begin.run();
    try {
      for (let i = 0; i < writes.length;) {
        const write = writes[i]!;
        if (write.add) i = this.#insertRun(writes, i);
        else {
          // The store drops its oldest message: the first row, found by its key; any other by a scan.
          if (this.#deleteOldest.run(write.id).changes === 0) this.#delete.run(write.id);
          this.#seen.run(write.id, write.seenAt);
          i++;
        }
      }
      this.#commit.run();
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#writes = [];
  }

  /** Inserts the stored messages queued from `start` on, up to the next drop; returns where that is. */
  #insertRun(writes: Write[], start: number): number {
    let end = start;
    while (end < writes.length && writes[end]!.add) end++;
    let at = start;
    for (const [k, rows] of INSERT_ROWS.entries()) {
      for (; end - at >= rows; at += rows) {
        const values: string[] = [];
        for (let i = at; i < at + rows; i++) {
          const write = writes[i] as { id: string; body: string };
          values.push(write.id, write.body);
        }
        this.#inserts[k]!.run(...values);
      }
    }
    return end;
  }

  /**
   * Forgets dropped ids first seen before `before` (wall-clock milliseconds), from the
   * oldest up to the first younger one (as the seen set in memory does, reading only
   * what it deletes), and all but the `limit` newest.
   */
  pruneSeen(before: number, limit: number): void {
    this.#db.prepare(
      `DELETE FROM seen WHERE seq < COALESCE(
        (SELECT seq FROM seen WHERE seen_at >= ? ORDER BY seq LIMIT 1),
        (SELECT MAX(seq) + 1 FROM seen))`,
    ).run(before);
    this.#db.prepare("DELETE FROM seen WHERE seq <= (SELECT MAX(seq) FROM seen) - ?").run(limit);
  }
}
