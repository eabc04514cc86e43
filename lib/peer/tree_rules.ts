/**
 * The broadcast tree's decisions, as pure functions: which link a repeated message
 * prunes, and how long the first ask for an announced but missing message waits.
 * See docs/protocol.md, "Gossip", for the rules in prose.
 */

import { TUNING } from "../settings/config.ts";

/** What a peer knows of its push tree when it decides how long a missing message may still take. */
export interface TreeState {
  /** Clock time, milliseconds. */
  now: number;
  /** The fetchTimeout setting, milliseconds. */
  fetchTimeout: number;
  /** Clock time a link that pushed to this peer last stopped: a prune received, or the neighbour lost. */
  pushLinkLostAt: number;
  /** How late the push tree ran behind announcements lately, milliseconds (decaying). */
  pushLag: number;
  /** Whether any link pushes to this peer (link states match at both ends, bar frames under way). */
  pushLinks: boolean;
}

/**
 * Milliseconds the first ask for a missing message waits beyond fetchTimeout.
 * - minus fetchTimeout (ask at once) when no link pushes to this peer: nothing but an
 *   ask can bring the message, and the answer grafts a link back into the tree;
 * - 0 for `TUNING.cutTreeFetchTimeouts` fetch timeouts after a pushing link stopped (a
 *   prune received, or the neighbour lost): the tree may be cut there, and asking at once
 *   repairs it (the answer grafts a link);
 * - otherwise the tree is taken for late rather than broken: `TUNING.busyTreeFetchTimeouts`
 *   fetch timeouts, or how late it ran lately if longer. Under load one event loop serves
 *   some sockets seconds late while others flow, so quiet proves nothing; asking for
 *   every late message would double the work of peers already behind, and each answer
 *   grafts a link, which closes a loop that a prune must open again. A peer keeps a push
 *   link until it receives a prune or loses the neighbour (it prunes one of its own only
 *   on a repeat, which another push link brought first), so those two are the cuts.
 */
export function firstAskAllowance(tree: TreeState): number {
  const { now, fetchTimeout } = tree;
  if (!tree.pushLinks) return -fetchTimeout;
  if (now - tree.pushLinkLostAt < TUNING.cutTreeFetchTimeouts * fetchTimeout) return 0;
  return Math.max(tree.pushLag, TUNING.busyTreeFetchTimeouts * fetchTimeout);
}

/** Where the first copy of a repeated message came from, as seen when the repeat arrives. */
export type FirstCopyLink =
  /** Published here, or its neighbour is gone. */
  | "none"
  /** The same link the repeat came over. */
  | "same"
  /** Another link, which pushes. */
  | "push"
  /** Another link, which only announces (this peer pruned it; its prune was still on the way). */
  | "announce";

/** What a peer knows when a message it has seen arrives again over a link. */
export interface RepeatFacts {
  /** Whether the peer gossips along a tree (`gossipMode` "tree"); flooding prunes nothing. */
  tree: boolean;
  /** Whether the repeat's copy is marked as having come by no path of the tree (`offTree`). */
  markedOffTree: boolean;
  /** Whether this end pushes over the link the repeat came on. */
  viaPushLink: boolean;
  /** Whether the first copy answered a fetch (the push is the tree running late). */
  firstFetched: boolean;
  /** Whether the message is the one this peer saw first most recently (by arrival). */
  newest: boolean;
  /** The first copy as stored; undefined when only its id is remembered. */
  first: { offTree: boolean; firstSeen: number; hops: number } | undefined;
  /** Monotonic clock time the repeat's link opened. */
  linkSince: number;
  firstLink: FirstCopyLink;
  /** The repeat's hop count, when its frame shows one. */
  hops: number | undefined;
}

/** What a repeat does to the tree: nothing, a push-lag sample, or a prune of one of two links. */
export type RepeatVerdict = "keep" | "pushLag" | "pruneSender" | "pruneFirstLink";

/**
 * Two pushing links that bring the same message close a loop, and one of them is
 * pruned: told to announce rather than push, and this peer does the same towards it.
 * The link kept is the one on the shorter path, judged the same way at both of its
 * ends, so the tree converges to short paths whatever order copies arrive in:
 * - the repeat came by a shorter path (`hops < first.hops`): its link stays, the first
 *   copy's link goes, if that is another pushing link;
 * - the repeat came more than TUNING.pruneHopSlack hops further than the first copy:
 *   the sender would reach the origin sooner through this peer, so the link stays (the
 *   sender prunes its own first link, by the rule above);
 * - otherwise the repeat's link goes.
 * Nothing is pruned when the first copy was fetched (the push is the tree lagging: a
 * push-lag sample); when either copy came by no path of the tree; when newer messages
 * arrived since (with several under way, peers around a loop judge it by different
 * messages and may cut two of its links at once); when the first copy came before the
 * repeat's link existed (a newcomer passing on its catch-up); or when the first copy
 * came over a link this peer had pruned already.
 */
export function judgeRepeat(f: RepeatFacts): RepeatVerdict {
  if (!f.tree || f.markedOffTree || !f.viaPushLink) return "keep";
  if (f.firstFetched) return "pushLag";
  if (!f.newest || f.first?.offTree) return "keep";
  if (f.first !== undefined && f.first.firstSeen <= f.linkSince) return "keep";
  if (f.firstLink === "announce") return "keep";
  if (f.hops !== undefined && f.first !== undefined) {
    if (f.hops < f.first.hops) return f.firstLink === "push" ? "pruneFirstLink" : "keep";
    if (f.hops > f.first.hops + TUNING.pruneHopSlack) return "keep";
  }
  return "pruneSender";
}
