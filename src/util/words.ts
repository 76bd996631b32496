/** Lists in running text. */

/** "A", "A or B", "A, B or C"; empty for no items. */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
