import type { ApiEvent, Engagement, Status } from "./types";

export const SERVER_EVENT_TYPES = ["status", "progress", "engagement", "log"] as const;
export type ServerEventType = (typeof SERVER_EVENT_TYPES)[number];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One SSE message (`event: TYPE`, `data: JSON`) as an ApiEvent; null when it is not one we know. */
export function parseServerEvent(type: string, data: string): ApiEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(v)) {
    return null;
  }
  switch (type) {
    case "status":
      if (typeof v.context === "string" && isObject(v.status)) {
        return { type: "status", context: v.context, status: v.status as unknown as Status };
      }
      return null;
    case "progress":
      if (typeof v.action === "string" && typeof v.line === "string") {
        return { type: "progress", action: v.action, line: v.line };
      }
      return null;
    case "engagement":
      if (typeof v.id === "string") {
        return { type: "engagement", engagement: normalizeEngagement(v) };
      }
      return null;
    case "log":
      if (typeof v.container === "string" && typeof v.line === "string") {
        return { type: "log", container: v.container, line: v.line };
      }
      return null;
    default:
      return null;
  }
}

/** Fills what a partial engagement object lacks so components need no checks. */
export function normalizeEngagement(v: Record<string, unknown>): Engagement {
  const str = (x: unknown): string => (typeof x === "string" ? x : "");
  const env: Record<string, string> = {};
  if (isObject(v.env)) {
    for (const [k, val] of Object.entries(v.env)) {
      env[k] = typeof val === "string" ? val : JSON.stringify(val);
    }
  }
  const volumes = Array.isArray(v.volumes)
    ? v.volumes.filter(isObject).map((x) => ({ name: str(x.name), path: str(x.path) }))
    : [];
  const engagement: Engagement = {
    id: str(v.id),
    workload: str(v.workload),
    mode: str(v.mode),
    container: str(v.container),
    image: str(v.image),
    state: str(v.state),
    message: str(v.message),
    env,
    volumes,
  };
  if (typeof v.note === "string" && v.note !== "") {
    engagement.note = v.note;
  }
  return engagement;
}
