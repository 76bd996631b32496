/**
 * The JSON schemas several routes share, registered once with `addSchema` so that every route names
 * the same one by `$ref` (no copies to drift apart), and the OpenAPI document lists each once under
 * `components.schemas` by its `$id`.
 */
import type { FastifyInstance } from 'fastify';
import { problemBodySchema } from './problem.js';
import { requestViewBodySchema } from './requests.js';

const SHARED = [problemBodySchema, requestViewBodySchema] as const;

export function registerSharedSchemas(app: FastifyInstance): void {
  for (const schema of SHARED) app.addSchema(schema);
}

/** @fastify/swagger's name for a shared schema in components.schemas: its `$id`, not `def-N`. */
export function componentName(json: { $id?: unknown }, index: number): string {
  return typeof json.$id === 'string' ? json.$id : `def-${index}`;
}
