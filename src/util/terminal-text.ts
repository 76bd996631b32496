/**
 * The one place that decides what text from outside (a user id, a name in a CSR, a trigger's
 * output) may be printed to an operator's terminal or put in a message. C0 and C1 controls and DEL
 * can drive a terminal; the soft hyphen, zero-width characters, line and paragraph separators, the
 * Arabic letter mark, bidi embeddings, overrides and isolates and the BOM can make text read
 * differently from what it is (U+202E turns "evil\u202Egpj.exe" into "evilexe.jpg").
 */

/** Every character that must not reach a terminal as itself. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
/** The same, less the C0 controls, which JSON.stringify already escapes. */
const UNSAFE_AFTER_JSON = /[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The text with each unsafe character replaced by '?', cut to `max` characters. */
export function printable(text: string, max = Number.POSITIVE_INFINITY): string {
  return cut(text.replace(UNSAFE, '?'), max);
}

/** The text with every unsafe character removed (for a log line taken from a program's output). */
export function withoutUnsafe(text: string): string {
  return text.replace(UNSAFE, '');
}

/** The text quoted as JSON, with what JSON lets through escaped as \uXXXX, cut to `max` characters. */
export function quoted(text: string, max = 80): string {
  return JSON.stringify(cut(text, max)).replace(
    UNSAFE_AFTER_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
