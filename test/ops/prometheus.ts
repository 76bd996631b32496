/** Reading Prometheus exposition text in tests, through an independent parser. */
import { createRequire } from 'node:module';

export interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

// The package ships CommonJS without types; its shape is the prom2json one its README documents.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

/**
 * Families by name. The parser flattens a labelled histogram into one unlabelled bucket set, so
 * histograms are rebuilt here from the same parser's reading of their _bucket, _sum and _count lines.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map(parse(text).map((f) => [f.name, f]));
  for (const family of families.values()) {
    if (family.type !== 'HISTOGRAM') continue;
    // Without its TYPE line each series' lines come back as untyped families, one per series and suffix.
    const raw = parse(text.replace(new RegExp(`^# (?:TYPE|HELP) ${family.name} .*$`, 'gm'), ''));
    const linesOf = (suffix: string) =>
      raw.filter((f) => f.name === `${family.name}${suffix}`).flatMap((f) => f.metrics);
    const series = new Map<string, Sample>();
    const seriesOf = (labels: Record<string, string> = {}) => {
      const { le: _le, ...rest } = labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      let found = series.get(key);
      if (!found) {
        found = { labels: rest, buckets: {} };
        series.set(key, found);
      }
      return found;
    };
    for (const m of linesOf('_bucket')) {
      const entry = seriesOf(m.labels);
      if (m.labels?.le !== undefined && m.value !== undefined && entry.buckets)
        entry.buckets[m.labels.le] = m.value;
    }
    for (const m of linesOf('_count')) seriesOf(m.labels).count = m.value;
    for (const m of linesOf('_sum')) seriesOf(m.labels).sum = m.value;
    family.metrics = [...series.values()];
  }
  return families;
}

/** The sample of `name` whose labels include all of `labels`, or undefined. */
export function sample(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): Sample | undefined {
  return families
    .get(name)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

/** The numeric value of a counter or gauge sample; 0 when the series does not exist yet. */
export function value(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = sample(families, name, labels);
  return found?.value === undefined ? 0 : Number(found.value);
}
