import type { ApiEvent, ContextInfo, Engagement, Status, Workload } from "../api/types";
import { appendLine } from "./logRing";

/** How many progress lines of the running action are kept. */
export const PROGRESS_LINES = 200;

export interface Progress {
  action: string;
  lines: string[];
}

/** Everything the page shows that comes from the API and its events. */
export interface PageState {
  contexts: ContextInfo[];
  context: string;
  status: Status | null;
  workloads: Workload[];
  /** False until the workloads were read for the current connection. */
  workloadsKnown: boolean;
  /** By id, in the order first seen. */
  engagements: Record<string, Engagement>;
  engagementOrder: string[];
  /** Containers this page started with docker-run, in order. */
  containers: string[];
  /** The last 500 lines of each container, by name. */
  logs: Record<string, string[]>;
  progress: Progress | null;
  /** The event stream is open. */
  streamUp: boolean;
  /** The last API call failed to reach the server at all. */
  apiDown: boolean;
}

export const initialState: PageState = {
  contexts: [],
  context: "default",
  status: null,
  workloads: [],
  workloadsKnown: false,
  engagements: {},
  engagementOrder: [],
  containers: [],
  logs: {},
  progress: null,
  streamUp: true,
  apiDown: false,
};

export type PageAction =
  | { type: "event"; event: ApiEvent }
  | { type: "contexts"; contexts: ContextInfo[]; chosen: string }
  | { type: "select-context"; context: string }
  | { type: "status"; context: string; status: Status }
  | { type: "workloads"; context: string; workloads: Workload[] | null }
  | { type: "engagements"; context: string; engagements: Engagement[] }
  | { type: "engagement"; engagement: Engagement }
  | { type: "forget-engagement"; id: string }
  | { type: "container-started"; name: string }
  | { type: "container-stopped"; name: string }
  | { type: "action-started"; action: string }
  | { type: "api-reachable"; up: boolean };

function upsertEngagement(state: PageState, e: Engagement): PageState {
  if (!e.id) {
    return state;
  }
  const known = state.engagements[e.id] !== undefined;
  return {
    ...state,
    engagements: { ...state.engagements, [e.id]: e },
    engagementOrder: known ? state.engagementOrder : [...state.engagementOrder, e.id],
    workloads: state.workloads.map((w) =>
      w.workload === e.workload && e.state === "ended" && w.engagement?.id === e.id
        ? { ...w, engagement: null }
        : w,
    ),
  };
}

function applyEvent(state: PageState, event: ApiEvent): PageState {
  switch (event.type) {
    case "status":
      return event.context === state.context ? applyStatus(state, event.status) : state;
    case "progress": {
      if (state.progress && state.progress.action === event.action) {
        return {
          ...state,
          progress: {
            action: event.action,
            lines: appendLine(state.progress.lines, event.line, PROGRESS_LINES),
          },
        };
      }
      return { ...state, progress: { action: event.action, lines: [event.line] } };
    }
    case "engagement":
      return upsertEngagement(state, event.engagement);
    case "log":
      return {
        ...state,
        logs: {
          ...state.logs,
          [event.container]: appendLine(state.logs[event.container] ?? [], event.line),
        },
      };
    case "stream":
      return { ...state, streamUp: event.up, apiDown: event.up ? false : state.apiDown };
  }
}

function applyStatus(state: PageState, status: Status): PageState {
  const wasConnected = state.status?.connected === true;
  const next = { ...state, status };
  if (!status.connected) {
    next.workloads = [];
    next.workloadsKnown = false;
  } else if (!wasConnected) {
    next.workloadsKnown = false;
  }
  return next;
}

export function pageReducer(state: PageState, action: PageAction): PageState {
  switch (action.type) {
    case "event":
      return applyEvent(state, action.event);
    case "contexts":
      return { ...state, contexts: action.contexts, context: action.chosen };
    case "select-context":
      if (action.context === state.context) {
        return state;
      }
      return {
        ...state,
        context: action.context,
        status: null,
        workloads: [],
        workloadsKnown: false,
        engagements: {},
        engagementOrder: [],
      };
    case "status":
      return action.context === state.context ? applyStatus(state, action.status) : state;
    case "workloads":
      if (action.context !== state.context) {
        return state;
      }
      return {
        ...state,
        workloads: action.workloads ?? [],
        workloadsKnown: action.workloads !== null,
      };
    case "engagements": {
      if (action.context !== state.context) {
        return state;
      }
      let next = state;
      for (const e of action.engagements) {
        next = upsertEngagement(next, e);
      }
      return next;
    }
    case "engagement":
      return upsertEngagement(state, action.engagement);
    case "forget-engagement": {
      if (!(action.id in state.engagements)) {
        return state;
      }
      const engagements = { ...state.engagements };
      delete engagements[action.id];
      return {
        ...state,
        engagements,
        engagementOrder: state.engagementOrder.filter((id) => id !== action.id),
      };
    }
    case "container-started":
      return state.containers.includes(action.name)
        ? state
        : { ...state, containers: [...state.containers, action.name] };
    case "container-stopped":
      return { ...state, containers: state.containers.filter((c) => c !== action.name) };
    case "action-started":
      return { ...state, progress: { action: action.action, lines: [] } };
    case "api-reachable":
      return state.apiDown === !action.up ? state : { ...state, apiDown: !action.up };
  }
}

/** The engagement shown for a workload: the page's own record when it has one, else the list's. */
export function engagementOfWorkload(
  state: PageState,
  w: Workload,
): { id: string; mode: string; state: string } | null {
  if (w.engagement) {
    const own = state.engagements[w.engagement.id];
    return { id: w.engagement.id, mode: w.engagement.mode, state: own?.state ?? "active" };
  }
  for (const id of state.engagementOrder) {
    const e = state.engagements[id];
    if (e && e.workload === w.workload && e.state !== "ended") {
      return { id: e.id, mode: e.mode, state: e.state };
    }
  }
  return null;
}

/** Whether the page should say the server cannot be reached. */
export function serverUnreachable(state: PageState): boolean {
  return state.apiDown || !state.streamUp;
}
