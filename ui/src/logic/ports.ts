/** `--port LOCAL[:CONTAINER]` mappings: "8080" or "8080:9090", each port 1..65535. */

const PORT_RE = /^[0-9]{1,5}$/;

function portProblem(text: string, what: string): string | null {
  if (!PORT_RE.test(text)) {
    return `${what} port "${text}" is not a number from 1 to 65535.`;
  }
  const n = Number(text);
  if (n < 1 || n > 65535) {
    return `${what} port ${n} is out of range: ports are 1 to 65535.`;
  }
  return null;
}

/** Why one mapping is wrong, or null when it is right. */
export function portMappingError(mapping: string): string | null {
  const m = mapping.trim();
  if (m === "") {
    return "A port mapping is empty: write LOCAL or LOCAL:CONTAINER, e.g. 8080 or 8080:9090.";
  }
  const parts = m.split(":");
  if (parts.length > 2) {
    return `"${m}" is not LOCAL or LOCAL:CONTAINER (e.g. 8080 or 8080:9090).`;
  }
  const local = portProblem(parts[0], "Local");
  if (local) {
    return local;
  }
  if (parts.length === 2) {
    return portProblem(parts[1], "Container");
  }
  return null;
}

export function isValidPortMapping(mapping: string): boolean {
  return portMappingError(mapping) === null;
}

/**
 * The mappings written in one field, separated by commas or blanks ("8080, 9090:80").
 * Port numbers hold no blanks or commas, so splitting there loses nothing.
 */
export function splitPortMappings(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export interface PortCheck {
  ports: string[];
  error: string | null;
}

/** Splits and checks a field; `required` for intercept, which needs a port. */
export function checkPortField(text: string, required: boolean): PortCheck {
  const ports = splitPortMappings(text);
  if (ports.length === 0) {
    return { ports, error: required ? "This mode needs a port: LOCAL or LOCAL:CONTAINER." : null };
  }
  for (const p of ports) {
    const e = portMappingError(p);
    if (e) {
      return { ports, error: e };
    }
  }
  return { ports, error: null };
}
