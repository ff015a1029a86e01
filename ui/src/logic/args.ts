/**
 * Argument lists for `docker run` and the image: one argument per field (or per line), sent as a
 * JSON array of strings. Nothing here splits on blanks or reads shell quoting: "-e X=a b" typed
 * in one field is one argument.
 */

/** The arguments to send: every field as typed, without the fields left entirely empty. */
export function argsToSend(fields: readonly string[]): string[] {
  return fields.filter((f) => f !== "");
}

/** One argument per line; a trailing "\r" (pasted Windows text) is not part of it. Empty lines are dropped. */
export function argsFromLines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l))
    .filter((l) => l !== "");
}

export function argsToLines(args: readonly string[]): string {
  return args.join("\n");
}

export function addArg(fields: readonly string[], value = ""): string[] {
  return [...fields, value];
}

export function setArg(fields: readonly string[], index: number, value: string): string[] {
  if (index < 0 || index >= fields.length) {
    return [...fields];
  }
  const next = [...fields];
  next[index] = value;
  return next;
}

export function removeArg(fields: readonly string[], index: number): string[] {
  return fields.filter((_, i) => i !== index);
}

/** Moves a field up (-1) or down (+1); order matters to docker. */
export function moveArg(fields: readonly string[], index: number, by: -1 | 1): string[] {
  const to = index + by;
  if (index < 0 || index >= fields.length || to < 0 || to >= fields.length) {
    return [...fields];
  }
  const next = [...fields];
  [next[index], next[to]] = [next[to], next[index]];
  return next;
}
