/**
 * The one way into an initialised data directory: its layout and its settings, refused with the
 * same message wherever a command is pointed at a directory that is not one.
 */
import { loadConfig } from '../config/file.js';
import type { Config } from '../config/schema.js';
import { type CertmasterStore, openStore } from '../store/open.js';
import { isInitialized } from './init.js';
import { type DataLayout, dataLayout, resolveStoreUrl } from './layout.js';
import { DataDirError } from './load.js';

export interface OpenedDataDir {
  layout: DataLayout;
  config: Config;
}

/** The layout and settings of `dir`; a DataDirError when it was never initialised. */
export function openDataDir(dir: string): OpenedDataDir {
  const layout = initialisedLayout(dir);
  return { layout, config: loadConfig(layout.config) };
}

/**
 * The layout of `dir` without reading its settings (`config set` repairs a file that does not load);
 * a DataDirError when it was never initialised, the same as openDataDir's.
 */
export function initialisedLayout(dir: string): DataLayout {
  const layout = dataLayout(dir);
  if (!isInitialized(layout.root)) {
    throw new DataDirError(
      `${layout.root} is not an initialised certmaster data directory; give the server's --data DIR, or create one with \`certmaster init --data ${dir}\``,
    );
  }
  return layout;
}

/**
 * The store a data directory names (`store.url`, or `storeUrl` when given), opened and migrated. A
 * SQLite store writes from its own thread only when asked (`writerThread`: the server); a short command
 * would spend more starting the thread than it saves.
 */
export function openDataStore(
  opened: OpenedDataDir,
  storeUrl?: string,
  options: { writerThread?: boolean } = {},
): Promise<CertmasterStore> {
  return openStore(resolveStoreUrl(storeUrl ?? opened.config.store.url, opened.layout.root), {
    writerThread: options.writerThread ?? false,
  });
}
