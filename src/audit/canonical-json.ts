/**
 * The canonical JSON the audit log stores details in and hashes records by (chain.ts).
 */

/** Deeper nesting than any audit detail needs; stops a cyclic or hostile value early. */
const MAX_JSON_DEPTH = 32;

/**
 * JSON with object keys sorted (by UTF-16 code units) at every level and no whitespace. It accepts
 * what JSON.stringify accepts and drops what it drops (undefined members, functions), calling `toJSON`
 * (Dates) and unwrapping boxed primitives as it does. Its output is a fixed point: parsing it and
 * encoding again gives the same text, so what the store keeps hashes as what was hashed.
 */
export function canonicalJson(value: unknown): string {
  const encoded = encode(value, 0);
  if (encoded === undefined) {
    throw new TypeError('canonicalJson: the value has no JSON form');
  }
  return encoded;
}

function encode(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: a BigInt has no JSON form');
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) {
    return 'null';
  }
  if (depth >= MAX_JSON_DEPTH) {
    throw new RangeError(`canonicalJson: nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return encode((value as { toJSON(): unknown }).toJSON(), depth + 1);
  }
  if (value instanceof String || value instanceof Number || value instanceof Boolean) {
    return encode(value.valueOf(), depth);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index++) {
      out += `${index === 0 ? '' : ','}${encode(value[index], depth + 1) ?? 'null'}`;
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const member = encode(object[key], depth + 1);
    if (member !== undefined) {
      out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${member}`;
    }
  }
  return `${out}}`;
}
