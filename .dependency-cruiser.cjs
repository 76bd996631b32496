/**
 * The layering rules of docs/architecture.md, checked in CI by `npm run lint:layers`.
 * Layers, from the edge inwards: http (and the acme/est front ends) -> auth -> ra -> ca -> store,
 * audit beside; contract has no dependencies; the SDK in src/client stands alone. no-circular sees
 * cycles of files only: test/contract/layering.test.ts fails on a cycle of top-level folders.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle makes start-up order and layering impossible to reason about.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'contract-stands-alone',
      severity: 'error',
      comment: 'src/contract is the wire contract (refusal table, wire types): it imports nothing of ours.',
      from: { path: '^src/contract/' },
      to: { path: '^src/', pathNot: '^src/contract/' },
    },
    {
      name: 'ca-sees-no-service',
      severity: 'error',
      comment: 'The CA signs and revokes; it never sees HTTP, accounts, the RA, the store or the CLI.',
      from: { path: '^src/ca/' },
      to: { path: '^src/(http|auth|ra|store|audit|ops|instance|cli|acme|client|config)/' },
    },
    {
      name: 'auth-knows-no-certificates',
      severity: 'error',
      comment: 'Authentication decides who the caller is; what they may sign is the RA\'s business.',
      from: { path: '^src/auth/' },
      to: { path: '^src/(http|ra|ca|acme|ops|instance|cli)/' },
    },
    {
      name: 'only-store-speaks-sql',
      severity: 'error',
      comment: 'Only src/store opens databases and writes SQL.',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: '^node_modules/(kysely|pg|better-sqlite3)/' },
    },
    {
      name: 'store-is-innermost',
      severity: 'error',
      comment: 'The store persists what the layers above hand it; it calls none of them.',
      from: { path: '^src/store/' },
      to: { path: '^src/(http|auth|ra|acme|ops|instance|cli|client|config)/' },
    },
    {
      name: 'sdk-stands-alone',
      severity: 'error',
      comment: 'src/client is the SDK other programs import: it needs only the wire contract.',
      from: { path: '^src/client/' },
      to: { path: '^src/', pathNot: '^src/(client|contract|util)/' },
    },
    {
      name: 'inner-layers-never-reach-out',
      severity: 'error',
      comment: 'Nothing below the front end imports the front end, the process wiring or the CLI.',
      from: { path: '^src/(auth|ra|ca|store|audit|config|acme|contract|util)/' },
      to: { path: '^src/(http|instance|cli)/' },
    },
    {
      name: 'http-reaches-storage-through-services',
      severity: 'error',
      comment: 'Routes call the RA, auth and ops services; they never read or write the store themselves.',
      from: { path: '^src/http/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'config-is-a-leaf',
      severity: 'error',
      comment: 'Settings are parsed before anything is built: config uses only domain rules and utilities.',
      from: { path: '^src/config/' },
      to: { path: '^src/(http|auth|ra|ca|acme|ops|instance|cli|client|store|audit)/' },
    },
    {
      name: 'audit-owns-its-storage-port',
      severity: 'error',
      comment: 'Audit owns its storage port (audit/storage-port.ts): the store implements it; audit never imports the store.',
      from: { path: '^src/audit/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'ops-sees-no-wiring',
      severity: 'error',
      comment: 'The instance wires ops in, so ops names what it reads (ExpiryInstance, DoctorLayout), never the instance.',
      from: { path: '^src/ops/' },
      to: { path: '^src/instance/' },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'Domain rules have no I/O and no layers: they use only each other, utilities and the wire contract.',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/(domain|util|contract)/' },
    },
    {
      name: 'util-is-a-leaf',
      severity: 'error',
      comment: 'Utilities are the bottom of every layer: they import nothing of ours outside src/util.',
      from: { path: '^src/util/' },
      to: { path: '^src/', pathNot: '^src/util/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
