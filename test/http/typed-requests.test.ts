/**
 * Routes take their request types from their schemas (the TypeBox type provider): a cast of
 * `request.body`, `.query` or `.params` would let the type and the schema Ajv checks drift apart.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const HTTP_DIR = new URL('../../src/http/', import.meta.url);
const CAST = /\b(?:request|req)\s*\.\s*(?:body|query|params)\s*\)?\s+as\s/;

test('no route in src/http casts its request body, query or params', () => {
  const files = readdirSync(HTTP_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 10, 'src/http holds the routes');
  const casts: string[] = [];
  for (const file of files) {
    readFileSync(new URL(file, HTTP_DIR), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (CAST.test(line)) casts.push(`src/http/${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(casts, [], 'give the route a TypeBox schema (src/http/request-schema.ts) instead');
});
