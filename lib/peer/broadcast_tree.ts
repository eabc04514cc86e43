/**
 * Tree gossip (Plumtree-like): a new message goes in full over the links that push
 * and, batched as ids, over the others (see announcer.ts). A repeat over a pushing
 * link prunes one link of the loop it closed; a message that only an announcement
 * brought is fetched and its link grafted back (see fetcher.ts). With gossipMode
 * `flood` every link pushes and nothing is pruned. docs/protocol.md has the rules.
 */

import type { GossipMessage } from "../wire/messages.ts";
import { encodeGossip, peekGossipHops, peekGossipId, peekGossipOffTree } from "../wire/gossip_frame.ts";
import { messageId } from "../wire/message_id.ts";
import { messageBytes } from "../wire/signatures.ts";
import type { NodeContext } from "../node/node_core.ts";
import type { Neighbour } from "./neighbours.ts";
import type { MessageStore, StoredMessage } from "./message_store.ts";
import { Announcer } from "./announcer.ts";
import { Fetcher } from "./fetcher.ts";
import { type FirstCopyLink, judgeRepeat } from "./tree_rules.ts";
import { Histogram, type HistogramSnapshot } from "../util/histogram.ts";
import type { Via } from "./message_store.ts";

/** How new messages go over a link: in full, or as ids in batched announcements. */
export type LinkMode = "push" | "announce";

/** The tree's state of one neighbour link. */
export interface TreeLink {
  readonly neighbour: Neighbour;
  mode: LinkMode;
  /**
   * Ids the neighbour showed it has (by announcing or sending them) since the last
   * announcement round: they are not announced back to it.
   */
  readonly knows: Set<string>;
}

/** Frames of tree gossip's upkeep that a peer sent, and repeats it received. */
export interface GossipControl {
  /** ihave frames (each carries every id gathered for one neighbour). */
  announcements: number;
  /** getData frames asking for messages announced but not pushed. */
  fetches: number;
  /** graft frames: links turned back from announcing to pushing. */
  grafts: number;
  /** prune frames: links turned from pushing to announcing. */
  prunes: number;
}

/** Upper bounds of the delivery-hops histogram's buckets. */
export const HOP_BUCKETS: readonly number[] = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30];

/** What the tree has carried so far, for metrics. */
export interface TreeStats extends GossipControl {
  /** Copies of messages this peer already had. */
  repeats: number;
  /** Message signatures checked: at most one per message first seen from a neighbour. */
  verifications: number;
  /** Messages seen for the first time, by how they came (`self`: published here). */
  delivered: Record<Via, number>;
  /** Links between origin and this peer of each message received (not published here). */
  hops: HistogramSnapshot;
}

/** What the tree hands back to the peer. */
export interface TreeHooks {
  /** A message seen for the first time, stored (published here when `from` is undefined). */
  deliver(message: StoredMessage): void;
  /** A neighbour sent a message whose id does not match its signed fields, or whose signature is bad. */
  forged(neighbour: Neighbour, why: string): void;
  /** The node id a neighbour at `addr` proved, if `addr` is a neighbour's. */
  idAt(addr: string): string | undefined;
  /** Whether `neighbour` listed `id` as history it holds: an off-tree copy is not passed on to it. */
  holds(neighbour: Neighbour, id: string): boolean;
}

export class BroadcastTree {
  readonly #node: NodeContext;
  readonly #store: MessageStore;
  readonly #hooks: TreeHooks;
  readonly #tree: boolean;
  readonly #links = new Map<Neighbour, TreeLink>();
  /** The values of {@link #links}, renewed on every change: the loop run per message allocates no iterator. */
  #linkList: TreeLink[] = [];
  readonly #announcer: Announcer;
  readonly #fetcher: Fetcher;
  /** The message this peer saw first most recently. */
  #newestId: string | undefined;
  #repeats = 0;
  /** Signatures of messages checked: at most one per message first seen from a neighbour. */
  #verifications = 0;
  readonly #signing: boolean;
  #grafts = 0;
  #prunes = 0;
  readonly #delivered: Record<Via, number> = { self: 0, push: 0, fetch: 0, catch_up: 0 };
  readonly #hops = new Histogram(HOP_BUCKETS);

  constructor(node: NodeContext, store: MessageStore, hooks: TreeHooks) {
    this.#node = node;
    this.#store = store;
    this.#hooks = hooks;
    this.#tree = node.settings.gossipMode === "tree";
    this.#signing = node.settings.signMessages === "on";
    this.#announcer = new Announcer(node, () => this.#linkList);
    this.#fetcher = new Fetcher(node, {
      hasPushLink: () => this.#linkList.some((l) => l.mode === "push"),
      isNeighbour: (addr) => this.#linkList.some((l) => l.neighbour.addr === addr),
      ask: (addr, ids) => {
        const link = this.#linkList.find((l) => l.neighbour.addr === addr);
        if (link) this.ask(link.neighbour, ids);
      },
    });
  }

  /** Upkeep frames sent, repeats received and messages delivered so far. */
  stats(): TreeStats {
    return {
      verifications: this.#verifications,
      announcements: this.#announcer.announcements,
      fetches: this.#fetcher.fetches,
      grafts: this.#grafts,
      prunes: this.#prunes,
      repeats: this.#repeats,
      delivered: { ...this.#delivered },
      hops: this.#hops.snapshot(),
    };
  }

  /** A new link pushes until a repeat over it shows the tree reaches the far end another way. */
  linkUp(neighbour: Neighbour): void {
    this.#links.set(neighbour, { neighbour, mode: "push", knows: new Set() });
    this.#linkList = [...this.#links.values()];
  }

  /** A link closed; if it pushed, the tree is cut here and rejoins. */
  linkDown(neighbour: Neighbour): void {
    const link = this.#links.get(neighbour);
    if (link === undefined) return;
    this.#links.delete(neighbour);
    this.#linkList = [...this.#links.values()];
    if (link.mode === "push" && !this.#node.stopping) this.#rejoin();
  }

  modeOf(neighbour: Neighbour): LinkMode {
    return this.#links.get(neighbour)?.mode ?? "push";
  }

  /** Asks `neighbour` for the messages with these ids. */
  ask(neighbour: Neighbour, ids: string[]): void {
    this.#node.send(neighbour.conn, { type: "get_data", ids: ids.slice(0, this.#node.limits.maxIds) });
  }

  /** True for a gossip frame whose id this peer has seen: it is dropped before any parsing. */
  isRepeat(body: Uint8Array, from: Neighbour | undefined): boolean {
    const id = peekGossipId(body);
    if (id === undefined || !this.#store.has(id)) return false;
    this.#onRepeat(id, from, peekGossipHops(body), peekGossipOffTree(body));
    return true;
  }

  /** Stores, delivers and forwards a message seen for the first time; judges repeats. */
  accept(message: GossipMessage, from: Neighbour | undefined): void {
    if (this.#store.has(message.id)) {
      this.#onRepeat(message.id, from, message.hops, message.offTree === true);
      return;
    }
    if (from !== undefined) {
      const forged = this.#check(message);
      if (forged !== undefined) return this.#hooks.forged(from, forged);
    }
    const link = from === undefined ? undefined : this.#links.get(from);
    const arrival = this.#fetcher.arrived(message.id);
    // Came by no path of the push tree: marked so by the sender, or pushed over a link this
    // peer had pruned already (its prune still on the way) and not asked for.
    const offTree = link !== undefined &&
      (message.offTree === true || (link.mode !== "push" && arrival?.asked !== true));
    const now = this.#node.clock.now();
    const stored: StoredMessage = {
      id: message.id,
      origin: message.origin,
      originId: message.originId,
      content: message.content,
      created: message.created,
      sig: message.sig,
      firstSeen: now,
      seenAt: this.#node.clock.wallNow(),
      from: from?.addr,
      hops: from === undefined ? 0 : message.hops,
      offTree,
      via: from === undefined ? "self" : arrival?.asked ? "fetch" : message.offTree ? "catch_up" : "push",
    };
    this.#store.add(stored);
    this.#newestId = stored.id;
    this.#delivered[stored.via]++;
    if (from !== undefined) this.#hops.observe(stored.hops);
    if (offTree) {
      // Neither a late push along the tree nor an answer to an ask.
    } else if (link?.mode === "push") {
      // Pushed after its announcement: the tree runs late by that much, so asks wait longer.
      if (arrival !== undefined) this.#fetcher.pushedLate(arrival.announcedAt);
    } else if (arrival?.asked) {
      // The first copy answers an ask for an announced message.
      this.#fetcher.fetched(message.id, arrival.announcedAt);
      // The push tree did not bring it even with the extra wait a busy tree gets: it no
      // longer reaches this peer from that message's origin, so the link that answered
      // pushes from now on.
      if (link !== undefined && this.#tree) this.#graft(link);
    }
    this.#hooks.deliver(stored);
    this.#forward(stored, link, offTree);
  }

  /**
   * Why a message first seen from a neighbour cannot be taken, or undefined: its id must
   * be the hash of its signed fields, its origin must not be a neighbour's address under
   * another node id and, with signing on, its origin's signature over them must hold.
   * Checked once, before the message is stored or passed on.
   */
  #check(message: GossipMessage): string | undefined {
    const bytes = messageBytes(message);
    if (messageId(bytes) !== message.id) return "message id does not match its content";
    // Where the origin address is a neighbour's, the origin id must be the one it proved.
    const known = this.#hooks.idAt(message.origin);
    if (known !== undefined && known !== message.originId) return "origin address belongs to another node id";
    if (!this.#signing) return undefined;
    if (message.sig === undefined) return "message is not signed";
    this.#verifications++;
    if (!this.#node.keys.verify(message.originId, bytes, message.sig)) return "bad message signature";
    return undefined;
  }

  /**
   * A neighbour announced messages: it need not hear of them from this peer, and the
   * ones this peer lacks wait fetchTimeout for the push tree.
   */
  onAnnounce(neighbour: Neighbour, ids: string[], hops: number[]): void {
    const link = this.#links.get(neighbour);
    if (link === undefined) return;
    const lacking: string[] = [];
    const lackingHops: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (this.#store.has(id)) {
        this.#announcer.knows(link, id);
        continue;
      }
      lacking.push(id);
      lackingHops.push(hops[i]!);
    }
    if (lacking.length > 0) this.#fetcher.announced(lacking, lackingHops, neighbour.addr);
  }

  /** The neighbour asks to be pushed to again. */
  onGraft(neighbour: Neighbour): void {
    const link = this.#links.get(neighbour);
    if (link === undefined) return;
    if (link.mode !== "push") {
      this.#node.log.info("grafted by {peer}: pushing to it again", {
        event: "gossip.grafted",
        peer: neighbour.addr,
      });
    }
    this.#pushTo(link);
  }

  /** The neighbour found a shorter path; this end has no proof of one and watches for a cut. */
  onPrune(neighbour: Neighbour): void {
    const link = this.#links.get(neighbour);
    if (link === undefined || !this.#tree || link.mode !== "push") return;
    link.mode = "announce";
    this.#fetcher.pushLinkLost();
  }

  /** Pushes a new message in full over the pushing links (one frame for all) and gathers it for the others. */
  #forward(stored: StoredMessage, from: TreeLink | undefined, offTree: boolean): void {
    const node = this.#node;
    let frame: Uint8Array | undefined;
    let pushed = 0;
    let announced = 0;
    const links = this.#linkList;
    for (let i = 0; i < links.length; i++) {
      const link = links[i]!;
      if (link === from) continue;
      // History the neighbour said it has: a copy would only be a repeat.
      if (offTree && this.#hooks.holds(link.neighbour, stored.id)) continue;
      if (link.mode === "push") {
        frame ??= encodeGossip(stored, offTree, node.settings.maxFrameBytes, node.endpoint.pool);
        if (link.neighbour.conn.sendFrame(frame)) pushed++;
      } else {
        announced++;
      }
    }
    if (announced > 0) this.#announcer.add(stored);
    if (node.debug) {
      node.log.debug("forwarded message {id}: pushed to {pushed}, to announce to {announced} neighbours", {
        event: "message.forwarded",
        id: stored.id,
        pushed,
        announced,
      });
    }
  }

  /** A message arrived again, `hops` links from its origin by this path: see {@link judgeRepeat}. */
  #onRepeat(id: string, from: Neighbour | undefined, hops: number | undefined, offTree: boolean): void {
    this.#repeats++;
    const link = from === undefined ? undefined : this.#links.get(from);
    if (link === undefined) return;
    this.#announcer.knows(link, id);
    // Cheap checks first: most repeats arrive over links that do not push, or are off the tree.
    if (offTree || link.mode !== "push" || !this.#tree) return;
    const first = this.#store.get(id);
    const verdict = judgeRepeat({
      tree: this.#tree,
      markedOffTree: offTree,
      viaPushLink: true,
      firstFetched: this.#fetcher.wasFetched(id),
      newest: id === this.#newestId,
      first,
      linkSince: from!.since,
      firstLink: this.#firstLink(first, link),
      hops,
    });
    if (verdict === "pushLag") this.#fetcher.pushedAfterFetch(id);
    else if (verdict === "pruneSender") this.#prune(link);
    else if (verdict === "pruneFirstLink") this.#prune(this.#linkTo(first!.from!)!);
  }

  /** Where the first copy of a stored message came from, relative to the link `link`. */
  #firstLink(first: StoredMessage | undefined, link: TreeLink): FirstCopyLink {
    const parent = first?.from === undefined ? undefined : this.#linkTo(first.from);
    if (parent === undefined) return "none";
    if (parent === link) return "same";
    return parent.mode === "push" ? "push" : "announce";
  }

  #linkTo(addr: string): TreeLink | undefined {
    for (const link of this.#linkList) if (link.neighbour.addr === addr) return link;
    return undefined;
  }

  /**
   * A push link is gone, so the push tree is cut here. Every announce link of this peer
   * turns to push at both ends at once, which joins the parts again within a round trip
   * instead of after an announcement and a fetch; the loops this closes are pruned by the
   * repeats of the next message.
   */
  #rejoin(): void {
    this.#fetcher.pushLinkLost();
    if (!this.#tree) return;
    for (const link of this.#linkList) if (link.mode === "announce") this.#graft(link);
  }

  /** Turns a link to pushing at both ends: this one at once, the other on the graft. */
  #graft(link: TreeLink): void {
    this.#pushTo(link);
    this.#grafts++;
    this.#node.send(link.neighbour.conn, { type: "graft" });
  }

  #prune(link: TreeLink): void {
    link.mode = "announce";
    this.#prunes++;
    this.#node.send(link.neighbour.conn, { type: "prune" });
  }

  /** Turns a link to pushing; what was gathered to announce on it goes out first. */
  #pushTo(link: TreeLink): void {
    if (link.mode === "announce") this.#announcer.catchUpLink(link);
    link.mode = "push";
  }
}
