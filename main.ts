/**
 * The `p2pnet` command: a thin shell over lib/. See `p2pnet --help`.
 * @module
 */
import { runCli } from "./lib/cli/cli.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
