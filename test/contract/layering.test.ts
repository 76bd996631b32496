/**
 * The layers of docs/architecture.md hold at the level of folders, not only of files: the top-level
 * folders of src/ (and single top-level files such as src/types.ts, each its own node) import one
 * another without a cycle. dependency-cruiser's no-circular sees only file-level cycles, so a folder
 * loop (audit -> store -> audit through different files) passed it. Type-only imports count: a
 * layer that needs another's types depends on it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Folder -> folder -> the imports ("file: specifier") that make that edge. */
type FolderGraph = Map<string, Map<string, string[]>>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.[cm]?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The specifiers a file names: import and export declarations (type-only too), import types, import(). */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The node a path under src/ belongs to: its top-level folder, or the file itself (named .ts). */
function nodeOf(path: string): string | null {
  const parts = relative(SRC, path).split(sep);
  const [top] = parts;
  if (top === undefined || top === '..' || top === '') return null;
  return parts.length === 1 ? top.replace(/\.[cm]?js$/, '.ts') : top;
}

function folderGraph(): FolderGraph {
  const graph: FolderGraph = new Map();
  for (const file of sourceFiles(SRC)) {
    const from = nodeOf(file);
    if (from === null) continue;
    if (!graph.has(from)) graph.set(from, new Map());
    for (const specifier of specifiers(file)) {
      if (!specifier.startsWith('.')) continue;
      const to = nodeOf(resolve(dirname(file), specifier));
      if (to === null || to === from) continue;
      const edges = graph.get(from)!;
      const why = edges.get(to) ?? [];
      why.push(`${relative(SRC, file)}: '${specifier}'`);
      edges.set(to, why);
    }
  }
  return graph;
}

/**
 * The strongly connected components of more than one node (Tarjan), each told as one cycle through
 * all the edges found between its members, with the imports that make each edge.
 */
function folderCycles(graph: FolderGraph): string[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node)?.keys() ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);

  return components.map((members) => {
    const inside = new Set(members);
    const edges = members.flatMap((from) =>
      [...(graph.get(from) ?? new Map<string, string[]>())]
        .filter(([to]) => inside.has(to))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([to, why]) => {
          const shown = why.slice(0, 3).join(', ');
          return `    ${from} -> ${to}: ${shown}${why.length > 3 ? `, and ${why.length - 3} more` : ''}`;
        }),
    );
    return [`cycle: ${shortestCycle(graph, members[0]!, inside).join(' -> ')}`, ...edges].join('\n');
  });
}

/** The shortest way from `start` back to itself without leaving the component. */
function shortestCycle(graph: FolderGraph, start: string, inside: ReadonlySet<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i += 1) {
    const node = queue[i]!;
    for (const to of graph.get(node)?.keys() ?? []) {
      if (!inside.has(to)) continue;
      if (to === start) {
        const path: string[] = [];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = cameFrom.get(at)) {
          path.unshift(at);
        }
        return [start, ...path, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start];
}

test('the top-level folders of src/ import one another without a cycle', () => {
  const graph = folderGraph();
  // The parse found the layering it checks: a vacuous graph would pass for the wrong reason.
  assert.ok(graph.get('http')?.has('auth'), 'http imports auth');
  assert.ok(graph.get('store')?.has('audit'), 'store imports audit (it implements the audit port)');
  assert.ok(graph.get('views.ts')?.has('types.ts'), 'single files are nodes of their own');
  const cycles = folderCycles(graph);
  assert.ok(cycles.length === 0, `folder-level import cycles in src/:\n${cycles.join('\n')}`);
});

test('the cycle finder finds a loop through three folders and names its imports', () => {
  const graph: FolderGraph = new Map([
    ['a', new Map([['b', ['a/x.ts: ../b/y.js']]])],
    ['b', new Map([['c', ['b/y.ts: ../c/z.js']]])],
    ['c', new Map([['a', ['c/z.ts: ../a/x.js']]])],
    ['d', new Map([['a', ['d/w.ts: ../a/x.js']]])],
  ]);
  const cycles = folderCycles(graph);
  assert.equal(cycles.length, 1);
  assert.match(cycles[0]!, /^cycle: a -> b -> c -> a\n/);
  assert.match(cycles[0]!, /c -> a: c\/z\.ts: \.\.\/a\/x\.js/);
  assert.doesNotMatch(cycles[0]!, /d ->/);
});
