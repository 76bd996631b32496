/**
 * `certmaster explain`: the whole story of one request, or of one host, from the audit log and the
 * store, told in sentences an operator can act on. A caller only ever hears "the user name or
 * password is not right"; the audit record keeps the precise cause, and this is where an operator
 * reads it together with the fix.
 */
export * from './acme-order.js';
export { adviceFor } from './advice.js';
export { floodStory, floodSummariesOf } from './flood-story.js';
export * from './host.js';
export * from './story.js';
export { type Advice, type CommandContext, printable, shellWord } from './text.js';
export * from './wire.js';
