import { describe, expect, it } from "vitest";
import type { Engagement, Workload } from "../api/types";
import {
  engagementOfWorkload,
  initialState,
  pageReducer,
  serverUnreachable,
  type PageAction,
  type PageState,
} from "./state";

const fold = (actions: PageAction[], from: PageState = initialState) => actions.reduce(pageReducer, from);

const eng = (over: Partial<Engagement> = {}): Engagement => ({
  id: "e-1",
  workload: "echo",
  mode: "replace",
  container: "replace-echo-8080",
  image: "my-echo:dev",
  state: "starting",
  message: "",
  env: {},
  volumes: [],
  ...over,
});

const echo: Workload = { workload: "echo", ports: [8080], mounts: [], engagement: null };

describe("page reducer", () => {
  it("takes status events of the current context only", () => {
    const s = fold([
      {
        type: "event",
        event: {
          type: "status",
          context: "other",
          status: { connected: true, context: "other", container: null },
        },
      },
    ]);
    expect(s.status).toBeNull();
    const t = fold(
      [
        {
          type: "event",
          event: {
            type: "status",
            context: "default",
            status: { connected: true, context: "default", container: "tp-default" },
          },
        },
      ],
      s,
    );
    expect(t.status?.connected).toBe(true);
  });

  it("forgets workloads on disconnect", () => {
    const s = fold([
      { type: "status", context: "default", status: { connected: true, context: "default", container: "c" } },
      { type: "workloads", context: "default", workloads: [echo] },
    ]);
    expect(s.workloads).toHaveLength(1);
    expect(s.workloadsKnown).toBe(true);
    const t = pageReducer(s, {
      type: "event",
      event: {
        type: "status",
        context: "default",
        status: { connected: false, context: "default", container: null },
      },
    });
    expect(t.workloads).toEqual([]);
    expect(t.workloadsKnown).toBe(false);
  });

  it("collects progress lines per action", () => {
    const s = fold([
      { type: "action-started", action: "connect" },
      { type: "event", event: { type: "progress", action: "connect", line: "Launching daemon" } },
      { type: "event", event: { type: "progress", action: "connect", line: "Connected" } },
    ]);
    expect(s.progress).toEqual({ action: "connect", lines: ["Launching daemon", "Connected"] });
    const t = pageReducer(s, { type: "event", event: { type: "progress", action: "engage", line: "x" } });
    expect(t.progress).toEqual({ action: "engage", lines: ["x"] });
  });

  it("upserts engagements and keeps their order", () => {
    const s = fold([
      { type: "event", event: { type: "engagement", engagement: eng() } },
      { type: "event", event: { type: "engagement", engagement: eng({ id: "e-2", workload: "web" }) } },
      { type: "event", event: { type: "engagement", engagement: eng({ state: "active", env: { A: "1" } }) } },
    ]);
    expect(s.engagementOrder).toEqual(["e-1", "e-2"]);
    expect(s.engagements["e-1"].state).toBe("active");
    expect(s.engagements["e-1"].env).toEqual({ A: "1" });
  });

  it("clears a workload's engagement when it ends", () => {
    const s = fold([
      {
        type: "workloads",
        context: "default",
        workloads: [{ ...echo, engagement: { id: "e-1", mode: "replace", name: "echo", ports: [8080] } }],
      },
      { type: "engagement", engagement: eng({ state: "active" }) },
    ]);
    expect(engagementOfWorkload(s, s.workloads[0])).toEqual({ id: "e-1", mode: "replace", state: "active" });
    const t = pageReducer(s, {
      type: "event",
      event: { type: "engagement", engagement: eng({ state: "ended", message: "bye" }) },
    });
    expect(t.workloads[0].engagement).toBeNull();
    expect(engagementOfWorkload(t, t.workloads[0])).toBeNull();
  });

  it("keeps the last 500 log lines of each container", () => {
    let s = initialState;
    for (let i = 0; i < 600; i++) {
      s = pageReducer(s, { type: "event", event: { type: "log", container: "c1", line: `l${i}` } });
    }
    s = pageReducer(s, { type: "event", event: { type: "log", container: "c2", line: "only" } });
    expect(s.logs.c1).toHaveLength(500);
    expect(s.logs.c1[0]).toBe("l100");
    expect(s.logs.c2).toEqual(["only"]);
  });

  it("ignores answers for another context and resets on a context switch", () => {
    const s = fold([
      { type: "engagement", engagement: eng() },
      { type: "workloads", context: "other", workloads: [echo] },
    ]);
    expect(s.workloads).toEqual([]);
    const t = pageReducer(s, { type: "select-context", context: "other" });
    expect(t.context).toBe("other");
    expect(t.engagementOrder).toEqual([]);
    expect(t.status).toBeNull();
  });

  it("knows when the server is unreachable", () => {
    expect(serverUnreachable(initialState)).toBe(false);
    const down = pageReducer(initialState, { type: "event", event: { type: "stream", up: false } });
    expect(serverUnreachable(down)).toBe(true);
    const api = pageReducer(initialState, { type: "api-reachable", up: false });
    expect(serverUnreachable(api)).toBe(true);
    const back = pageReducer(fold([{ type: "api-reachable", up: false }], down), {
      type: "event",
      event: { type: "stream", up: true },
    });
    expect(serverUnreachable(back)).toBe(false);
  });

  it("tracks docker-run containers once each", () => {
    const s = fold([
      { type: "container-started", name: "a" },
      { type: "container-started", name: "a" },
      { type: "container-started", name: "b" },
      { type: "container-stopped", name: "a" },
    ]);
    expect(s.containers).toEqual(["b"]);
  });
});
