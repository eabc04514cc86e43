/**
 * The command-line side of the settings table: which flags each command takes, the
 * option definitions for node:util `parseArgs`, settings from parsed flag values, and
 * the option lines of `--help`.
 */

import { formatDuration } from "../util/duration.ts";
import { type Command, type Flag, listChoices, type Row } from "./kinds.ts";
import { ROWS, type SettingName, type Settings } from "./table.ts";
import { ConfigError, DEFAULT_SETTINGS, parseFlagValue } from "./config.ts";

/** A setting's flag with the field it sets. */
export interface SettingFlag extends Flag {
  readonly field: SettingName;
  readonly row: Row;
}

/** Every setting flag, in table order. */
export const SETTING_FLAGS: readonly SettingFlag[] = Object.entries(ROWS).flatMap(([field, row]) =>
  row.flag ? [{ ...row.flag, field: field as SettingName, row }] : []
);

/** Which settings field each flag sets, by flag name without the dashes (as `parseArgs` keys values). */
export const FLAG_FIELDS: Readonly<Record<string, SettingName>> = Object.fromEntries(
  SETTING_FLAGS.map((flag) => [flag.name.slice(2), flag.field]),
);

/** The setting flags `command` takes. */
export function flagsOf(command: Command): SettingFlag[] {
  return SETTING_FLAGS.filter((flag) => flag.commands.includes(command));
}

/** `parseArgs` option definitions of the setting flags `command` takes; each takes a value. */
export function flagOptions(command: Command): Record<string, { type: "string" }> {
  return Object.fromEntries(
    flagsOf(command).map((flag) => [flag.name.slice(2), { type: "string" as const }]),
  );
}

/**
 * Settings from parsed flag values of `command` (keys without dashes, as `parseArgs`
 * returns them); a flag not given is left out, and so is a key that is no setting flag
 * of `command` (the demo's own `--seeds N`, say). Without a command, every setting flag
 * counts. Throws {@link ConfigError} naming the flag.
 */
export function settingsFromFlags(
  values: Readonly<Record<string, unknown>>,
  command?: Command,
): Partial<Settings> {
  const settings: Record<string, unknown> = {};
  for (const flag of command === undefined ? SETTING_FLAGS : flagsOf(command)) {
    const name = flag.name.slice(2);
    const text = values[name];
    if (text === undefined) continue;
    if (typeof text !== "string") throw new ConfigError(`--${name}: needs a value`, { field: flag.field });
    settings[flag.field] = parseFlagValue(flag.field, `--${name}`, text);
  }
  return settings as Partial<Settings>;
}

/** Column of `--help` where the text of an option starts, after two spaces of indent. */
const HELP_COLUMN = 26;
/** `--help` lines are wrapped before this width. */
const HELP_WIDTH = 110;

/** The default of a row as `--help` and the docs show it. */
export function formatDefault(field: SettingName): string {
  const row = ROWS[field];
  const value = DEFAULT_SETTINGS[field];
  if (row.kind === "duration") return formatDuration(value as number);
  if (row.kind === "addresses") return (row.default as readonly string[]).join(", ");
  return String(value);
}

/** Words after `head`, wrapped before {@link HELP_WIDTH} with continuation lines indented to `indent`. */
function wrap(head: string, words: readonly string[], indent: number): string {
  const lines: string[] = [];
  let line = head;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = " ".repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/** One option line of `--help`: `  --flag ARG   text`, wrapped under the text column. */
export function optionLine(usage: string, text: string): string {
  return wrap(`  ${usage.padEnd(HELP_COLUMN - 1)} `, text.split(" "), HELP_COLUMN + 2);
}

/** A usage line: `head` then `parts` (such as `[--host H]`), wrapped under the first part. */
export function usageLine(head: string, parts: readonly string[]): string {
  return wrap(`${head} `, parts, head.length + 1);
}

/** What a flag does, for `--help`: the row's doc, its choices, its default. */
function flagText(flag: SettingFlag): string {
  const doc = flag.row.doc[0]!.toLowerCase() + flag.row.doc.slice(1);
  const choices = flag.row.kind === "choice" ? `: ${listChoices(flag.row.values, false)}` : "";
  return `${doc}${choices} (default: ${formatDefault(flag.field) || "none"})`;
}

/**
 * The option lines of `command`'s setting flags, in table order. `overrides` holds the
 * text of a flag (by name, such as `--port`) that means more for this command than its
 * setting says.
 */
export function flagHelp(command: Command, overrides: Readonly<Record<string, string>> = {}): string {
  return flagsOf(command)
    .map((flag) => optionLine(`${flag.name} ${flag.arg}`, overrides[flag.name] ?? flagText(flag)))
    .join("\n");
}

/** `[--flag ARG]` for each of `command`'s setting flags, for a usage line. */
export function flagUsage(command: Command): string[] {
  return flagsOf(command).map((flag) => `[${flag.name} ${flag.arg}]`);
}
