/**
 * Where a newest-first listing stopped: the creation time and the unique key (request id, serial) of
 * its last item. The next page holds what sorts after it, so rows added meanwhile neither repeat nor
 * shift the pages, as an offset would make them.
 */
export interface PageKey {
  at: Date;
  key: string;
}
