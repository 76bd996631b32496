/**
 * Starts a worker thread from a module of this project. Built, the module is a .js file next to its caller;
 * run from source (under tsx, as the tests do), it is a .ts file, which a worker can only load once tsx's
 * loader is registered inside it: workers do not inherit the loader hooks of `--import`.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const target = new URL(`./${name}.ts`, callerUrl).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(target)}))`;
  return new Worker(boot, { ...options, eval: true });
}
