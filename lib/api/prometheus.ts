/**
 * The Prometheus text exposition format (version 0.0.4): families of counters, gauges
 * and histograms, each with its HELP and TYPE lines, label values escaped. A node
 * builds its families afresh on each scrape from its own counters: nothing here is
 * shared between nodes.
 */

import type { HistogramSnapshot } from "../util/histogram.ts";

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

export interface HistogramSample {
  readonly labels?: Labels;
  readonly histogram: HistogramSnapshot;
}

export type Family =
  | {
    readonly name: string;
    readonly help: string;
    readonly type: "counter" | "gauge";
    readonly samples: readonly Sample[];
  }
  | {
    readonly name: string;
    readonly help: string;
    readonly type: "histogram";
    readonly samples: readonly HistogramSample[];
  };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The text of `families`, one after the other; throws a RangeError for a name the format does not allow. */
export function exposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) {
      throw new RangeError(
        `Metric name must match ${METRIC_NAME.source}: current value ${JSON.stringify(family.name)}`,
      );
    }
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") {
      for (const sample of family.samples) lines.push(...histogramLines(family.name, sample));
    } else {
      for (const sample of family.samples) lines.push(sampleLine(family.name, sample.labels, sample.value));
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

function histogramLines(name: string, { labels = {}, histogram }: HistogramSample): string[] {
  const lines = histogram.bounds.map((bound, i) =>
    sampleLine(`${name}_bucket`, { ...labels, le: formatValue(bound) }, histogram.counts[i]!)
  );
  lines.push(sampleLine(`${name}_bucket`, { ...labels, le: "+Inf" }, histogram.count));
  lines.push(sampleLine(`${name}_sum`, labels, histogram.sum));
  lines.push(sampleLine(`${name}_count`, labels, histogram.count));
  return lines;
}

function sampleLine(name: string, labels: Labels | undefined, value: number): string {
  const pairs = Object.entries(labels ?? {}).map(([key, text]) => {
    if (!LABEL_NAME.test(key) || key.startsWith("__")) {
      throw new RangeError(
        `Label name must match ${LABEL_NAME.source}: current value ${JSON.stringify(key)}`,
      );
    }
    return `${key}="${escapeLabel(text)}"`;
  });
  return `${name}${pairs.length === 0 ? "" : `{${pairs.join(",")}}`} ${formatValue(value)}`;
}

/** A sample value: `+Inf`, `-Inf`, `NaN` or a number as JavaScript writes it (which Go's ParseFloat reads). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabel(text: string): string {
  return text.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}
