/**
 * The credentials grammar of RFC 9110 §11.4 (with auth-param from §11.2), shared by every scheme:
 *
 *   credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 *   token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *
 * The header is taken as Node.js delivers it: one character per octet (ISO-8859-1). Parameter values
 * are then decoded as UTF-8, which is what the charset="UTF-8" we announce in every challenge asks
 * clients to send (RFC 7617 §2.1, RFC 7616 §3.3); invalid UTF-8 is refused rather than guessed at.
 */

export const MAX_AUTHORIZATION_LENGTH = 8192;
export const MAX_AUTH_PARAMS = 32;

export interface ParsedAuthorization {
  /** Lower-cased: auth-scheme is case-insensitive (RFC 9110 §11.1). */
  scheme: string;
  token68: string | null;
  /** Names lower-cased (§11.2: case-insensitive); values unquoted, quoted-pairs unescaped. */
  params: Map<string, string>;
}

export interface MalformedAuthorization {
  /** Why the header does not parse; safe to show the caller (never echoes a value). */
  malformed: string;
  /** The scheme, when at least that much parsed, so the caller can pick the right challenge. */
  scheme: string | null;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isWhitespace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Quoted-string content (RFC 9110 §5.6.4): qdtext is HTAB / SP / VCHAR except '"' and '\' / obs-text. */
function isQuotedText(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff);
}

/** Octets (one char each) to a string, or null when they are not UTF-8. */
export function decodeOctetsAsUtf8(octets: string): string | null {
  try {
    return UTF8.decode(Buffer.from(octets, 'latin1'));
  } catch {
    return null;
  }
}

/**
 * The auth-params any scheme we speak defines (RFC 7616 §3.4, RFC 6750 §3). Only these are named
 * back in an error: a caller-chosen "name" may be a secret sent in the wrong place (a token
 * followed by a comma parses as a parameter name), and errors reach logs and problem bodies.
 */
const KNOWN_PARAMS = new Set([
  'username',
  'username*',
  'realm',
  'uri',
  'nonce',
  'cnonce',
  'nc',
  'qop',
  'response',
  'algorithm',
  'opaque',
  'userhash',
  'charset',
  'domain',
  'stale',
  'error',
  'error_description',
  'error_uri',
  'scope',
]);

function describeName(name: string): string {
  return KNOWN_PARAMS.has(name.toLowerCase())
    ? `"${name.toLowerCase()}"`
    : `(an unknown one of ${name.length} characters)`;
}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string | undefined {
    return this.text[this.pos];
  }
  skipWhitespace(): void {
    while (isWhitespace(this.peek())) this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.text[this.pos] ?? '')) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** Reads a quoted-string at the cursor (which is on the opening DQUOTE); null when unterminated or invalid. */
  quotedString(): string | null {
    this.pos++;
    let value = '';
    while (!this.done) {
      const c = this.text[this.pos] ?? '';
      const code = c.charCodeAt(0);
      if (c === '"') {
        this.pos++;
        return value;
      }
      if (c === '\\') {
        const next = this.text[this.pos + 1];
        if (next === undefined || !isQuotedText(next.charCodeAt(0))) return null;
        value += next;
        this.pos += 2;
        continue;
      }
      if (!isQuotedText(code)) return null;
      value += c;
      this.pos++;
    }
    return null;
  }
}

/**
 * Parses an Authorization header value. Never throws; every loop consumes input, so the work is
 * bounded by MAX_AUTHORIZATION_LENGTH.
 */
export function parseAuthorization(header: string): ParsedAuthorization | MalformedAuthorization {
  if (header.length > MAX_AUTHORIZATION_LENGTH) {
    return {
      malformed: `the Authorization header is longer than ${MAX_AUTHORIZATION_LENGTH} characters`,
      scheme: null,
    };
  }
  for (let i = 0; i < header.length; i++) {
    if (header.charCodeAt(i) > 0xff) {
      return { malformed: 'the Authorization header contains characters that are not octets', scheme: null };
    }
  }
  const cursor = new Cursor(header);
  cursor.skipWhitespace();
  const rawScheme = cursor.token();
  if (rawScheme === '')
    return { malformed: 'the Authorization header does not start with a scheme name', scheme: null };
  const scheme = rawScheme.toLowerCase();
  const params = new Map<string, string>();
  if (cursor.done) return { scheme, token68: null, params };
  if (!isWhitespace(cursor.peek())) {
    return { malformed: 'the scheme name must be followed by a space', scheme };
  }
  cursor.skipWhitespace();
  if (cursor.done) return { scheme, token68: null, params };

  const rest = header.slice(cursor.pos).replace(/[ \t]+$/, '');
  if (TOKEN68.test(rest)) return { scheme, token68: rest, params };

  let count = 0;
  while (!cursor.done) {
    // #rule: empty list elements and surrounding OWS are allowed (RFC 9110 §5.6.1.2).
    cursor.skipWhitespace();
    if (cursor.peek() === ',') {
      cursor.pos++;
      continue;
    }
    if (cursor.done) break;
    const rawName = cursor.token();
    if (rawName === '') return { malformed: 'expected a parameter name (token) in the credentials', scheme };
    const name = rawName.toLowerCase();
    cursor.skipWhitespace();
    if (cursor.peek() !== '=')
      return { malformed: `parameter ${describeName(name)} has no "=value"`, scheme };
    cursor.pos++;
    cursor.skipWhitespace();
    let raw: string | null;
    if (cursor.peek() === '"') {
      raw = cursor.quotedString();
      if (raw === null)
        return { malformed: `parameter ${describeName(name)} has an invalid quoted string`, scheme };
    } else {
      raw = cursor.token();
      if (raw === '') return { malformed: `parameter ${describeName(name)} has no value`, scheme };
    }
    if (params.has(name))
      return { malformed: `parameter ${describeName(name)} appears more than once`, scheme };
    count++;
    if (count > MAX_AUTH_PARAMS) return { malformed: `more than ${MAX_AUTH_PARAMS} parameters`, scheme };
    const value = decodeOctetsAsUtf8(raw);
    if (value === null) return { malformed: `parameter ${describeName(name)} is not valid UTF-8`, scheme };
    params.set(name, value);
    cursor.skipWhitespace();
    if (!cursor.done && cursor.peek() !== ',') {
      return { malformed: `expected "," after parameter ${describeName(name)}`, scheme };
    }
  }
  return { scheme, token68: null, params };
}

export function isMalformed<T extends object>(
  result: T | { malformed: string },
): result is { malformed: string } {
  return 'malformed' in result;
}

/**
 * A quoted-string for a challenge parameter (RFC 9110 §5.6.4). The values come from configuration or
 * our own code, never from a request, so an unrepresentable one is a bug: it throws.
 */
export function quoteString(value: string): string {
  let out = '"';
  for (const c of value) {
    const code = c.codePointAt(0) ?? 0;
    if (code === 0x22 || code === 0x5c) out += `\\${c}`;
    else if (code === 0x09 || (code >= 0x20 && code <= 0x7e)) out += c;
    else throw new RangeError('value cannot be sent as an HTTP quoted-string (use printable ASCII)');
  }
  return `${out}"`;
}
