/**
 * What every command of the CLI shares: strict argument parsing with one-line usage
 * errors, and settings from the defaults, config.json, P2PNET_KEY and the flags.
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, loadConfigFile, resolveSettings, type Settings } from "../settings/config.ts";
import { settingsFromFlags } from "../settings/flags.ts";
import type { Command } from "../settings/kinds.ts";
import denoJson from "../../deno.json" with { type: "json" };

export const VERSION: string = denoJson.version;

/** Flags every command takes besides its setting flags. */
export const COMMON_OPTIONS: Options = {
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** A bad command line: exit code 2, one line on stderr. */
export class UsageError extends Error {
  override name = "UsageError";
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flag values, keyed by flag name without its dashes. */
export type Values = Record<string, string | boolean | undefined>;

/** Parses a command's arguments strictly; unknown flags and missing values become one-line usage errors. */
export function parseCommand(command: string, args: string[], options: Options): Values {
  return parseWithPositionals(command, args, options, false).values;
}

/** Like {@link parseCommand}, also returning the arguments that are not flags when `allowPositionals`. */
export function parseWithPositionals(
  command: string,
  args: string[],
  options: Options,
  allowPositionals = true,
): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    const flag = /'([^']+)'/.exec(message)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`${command}: unknown option '${flag.split(" ")[0]}'`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new UsageError(`${command}: option '${flag.split(" ")[0]}' needs a value`);
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(`${command}: unexpected argument '${flag}'`);
    }
    throw new UsageError(`${command}: ${message.split("\n")[0]}`);
  }
}

/** Settings from defaults, the config file, then flags (those `command` takes; any setting flag without one). */
export async function loadSettings(values: Values, command?: Command): Promise<Settings> {
  const path = typeof values.config === "string" ? values.config : "config.json";
  const fromFile = await loadConfigFile(path, { required: values.config !== undefined });
  let fromFlags: Partial<Settings>;
  try {
    fromFlags = settingsFromFlags(values, command);
  } catch (error) {
    // A bad flag value is a usage error: its line points at --help.
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  return resolveSettings(fromFile, fromEnvironment(), fromFlags);
}

/** Settings from the environment: P2PNET_KEY, the network key (kept out of files and shell history). */
export function fromEnvironment(): Partial<Settings> {
  let key: string | undefined;
  try {
    key = Deno.env.get("P2PNET_KEY");
  } catch {
    // No permission to read it: the config file decides.
  }
  return key ? { networkKey: key } : {};
}

/** Resolves on the first SIGINT or SIGTERM; a second one forces exit at once. */
export function onStopSignal(): { signalled: Promise<string>; dispose: () => void } {
  const { promise, resolve } = Promise.withResolvers<string>();
  let count = 0;
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = () => {
      count++;
      if (count > 1) {
        console.error(`p2pnet: ${signal} again, exiting at once`);
        Deno.exit(130);
      }
      resolve(signal);
    };
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  return { signalled: promise, dispose: () => handlers.forEach((remove) => remove()) };
}

export function listenFailure(what: string, error: unknown): Error {
  if (error instanceof Deno.errors.AddrInUse) {
    return new Error(`cannot listen on ${what}: address already in use (is another node running there?)`);
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new Error(`cannot listen on ${what}: address not available on this machine`);
  }
  return new Error(`cannot listen on ${what}: ${(error as Error).message}`);
}
