/** Strikes and bans of remote hosts. */

import assert from "node:assert/strict";
import { BanList } from "../../lib/net/ban_list.ts";

Deno.test("BanList bans a host after threshold strikes within the window, for banTime", () => {
  const bans = new BanList(3, 1000);
  assert.equal(bans.strike("h", 0), false);
  assert.equal(bans.strike("h", 10), false);
  assert.equal(bans.strike("h", 20), true);
  assert.equal(bans.isBanned("h", 500), true);
  assert.equal(bans.isBanned("other", 500), false);
  assert.equal(bans.isBanned("h", 1021), false);
  // Strikes further apart than the window do not add up.
  assert.equal(bans.strike("x", 0), false);
  assert.equal(bans.strike("x", 600), false);
  assert.equal(bans.strike("x", 1700), false);
  assert.equal(new BanList(0, 1000).strike("h", 0), false, "threshold 0 never bans");
});
