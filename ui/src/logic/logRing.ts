export const LOG_LINES = 500;

/** The last `max` lines after appending `added`; never mutates `lines`. */
export function appendLines(lines: readonly string[], added: readonly string[], max = LOG_LINES): string[] {
  if (max <= 0) {
    return [];
  }
  const all = lines.length + added.length <= max ? [...lines, ...added] : [...lines, ...added].slice(-max);
  return all;
}

export function appendLine(lines: readonly string[], line: string, max = LOG_LINES): string[] {
  return appendLines(lines, [line], max);
}
