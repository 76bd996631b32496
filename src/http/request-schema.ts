/**
 * TypeBox helpers for the request schemas (params, query string, body). With the TypeBox type
 * provider a route's handler gets its request typed from its schema, so no route casts
 * `request.body` and the two cannot drift. Ajv still validates the same JSON schema the routes
 * always had: these helpers keep the keywords (`enum`, `type: ['object', 'null']`) whose errors
 * Ajv words differently from TypeBox's own forms (anyOf), so the 400 problem bodies stay the same.
 */
import { type SchemaOptions, type Static, type TObject, Type } from '@sinclair/typebox';

/** `{ type: 'string', enum: [...] }`, typed as the union of the values (a TypeBox Union of literals would be anyOf). */
export function stringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** An object body that may also be JSON null, as a POST without a body sends: `type: ['object', 'null']`. */
export function objectOrNull<T extends TObject>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: ['object', 'null'] });
}
