import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import Alert from "@mui/material/Alert";
import AlertTitle from "@mui/material/AlertTitle";
import Box from "@mui/material/Box";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { ApiError, errorText } from "./api/TelepresenceApi";
import type { Engagement, Workload } from "./api/types";
import { engagementOfWorkload, initialState, pageReducer, serverUnreachable } from "./logic/state";
import { ActionProgress } from "./components/ActionProgress";
import { useApi } from "./components/ApiContext";
import { ConnectionPanel } from "./components/ConnectionPanel";
import { DockerRunPanel } from "./components/DockerRunPanel";
import { EngageDialog } from "./components/EngageDialog";
import { EngagementCard } from "./components/EngagementCard";
import { ErrorAlert } from "./components/ErrorAlert";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { WorkloadsPanel } from "./components/WorkloadsPanel";

const ACTION_LABEL: Record<string, string> = {
  connect: "Connecting: starting the daemon container…",
  quit: "Disconnecting…",
  leave: "Leaving the engagement…",
  "docker-run": "Starting the container…",
  "stop-container": "Stopping the container…",
};

const RETRY_MS = 3000;

export function App() {
  const api = useApi();
  const [state, dispatch] = useReducer(pageReducer, initialState);
  const [running, setRunning] = useState<Record<string, boolean>>({});
  const [error, setError] = useState<string | null>(null);
  const [engaging, setEngaging] = useState<Workload | null>(null);
  const contextRef = useRef(state.context);
  contextRef.current = state.context;

  const failed = useCallback((e: unknown) => {
    if (e instanceof ApiError && e.unreachable) {
      dispatch({ type: "api-reachable", up: false });
    }
    setError(errorText(e));
  }, []);

  const reached = useCallback(() => dispatch({ type: "api-reachable", up: true }), []);

  /** Runs one long action: its button is disabled and its progress shown until it ends. */
  const run = useCallback(
    async (key: string, action: string, fn: () => Promise<void>): Promise<boolean> => {
      setRunning((r) => ({ ...r, [key]: true }));
      setError(null);
      dispatch({ type: "action-started", action });
      try {
        await fn();
        reached();
        return true;
      } catch (e) {
        failed(e);
        return false;
      } finally {
        setRunning((r) => {
          const next = { ...r };
          delete next[key];
          return next;
        });
      }
    },
    [failed, reached],
  );

  const refreshStatus = useCallback(
    async (context: string) => {
      try {
        const status = await api.status(context);
        reached();
        dispatch({ type: "status", context, status });
      } catch (e) {
        failed(e);
      }
    },
    [api, failed, reached],
  );

  const refreshEngagements = useCallback(
    async (context: string) => {
      try {
        const engagements = await api.engagements(context);
        dispatch({ type: "engagements", context, engagements });
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 409)) {
          failed(e);
        }
      }
    },
    [api, failed],
  );

  const refreshWorkloads = useCallback(
    async (context: string) => {
      try {
        const workloads = await api.workloads(context);
        dispatch({ type: "workloads", context, workloads });
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          dispatch({ type: "workloads", context, workloads: [] });
        } else {
          failed(e);
        }
      }
    },
    [api, failed],
  );

  // The contexts, once.
  useEffect(() => {
    api.contexts().then((r) => {
      reached();
      const names = (r.contexts ?? []).map((c) => c.name);
      const chosen = names.includes(r.default) ? r.default : (names[0] ?? "default");
      dispatch({ type: "contexts", contexts: r.contexts ?? [], chosen });
    }, failed);
  }, [api, failed, reached]);

  // Status and engagements of the chosen context.
  useEffect(() => {
    void refreshStatus(state.context);
    void refreshEngagements(state.context);
  }, [state.context, refreshStatus, refreshEngagements]);

  // The events.
  useEffect(() => api.subscribe((event) => dispatch({ type: "event", event })), [api]);

  // Back after the stream or the API was lost: read everything again.
  const unreachable = serverUnreachable(state);
  const wasUnreachable = useRef(false);
  useEffect(() => {
    if (unreachable) {
      wasUnreachable.current = true;
      const t = setInterval(() => void refreshStatus(contextRef.current), RETRY_MS);
      return () => clearInterval(t);
    }
    if (wasUnreachable.current) {
      wasUnreachable.current = false;
      setError(null);
      void refreshStatus(contextRef.current);
      void refreshEngagements(contextRef.current);
    }
    return undefined;
  }, [unreachable, refreshStatus, refreshEngagements]);

  // Workloads once connected, and again whenever an engagement changes state.
  const connected = state.status?.connected === true;
  const engagementStates = state.engagementOrder
    .map((id) => `${id}:${state.engagements[id]?.state}`)
    .join(",");
  useEffect(() => {
    if (connected) {
      void refreshWorkloads(state.context);
    }
  }, [connected, state.context, engagementStates, refreshWorkloads]);

  const busyConnection = running.connect === true || running.quit === true;
  const pageAction = Object.keys(running).length > 0 && state.progress ? state.progress : null;
  const runningLabel = Object.keys(running)
    .map((k) => ACTION_LABEL[k.split(":")[0]] ?? "Working…")
    .join(" ");

  const onConnect = () =>
    void run("connect", "connect", async () => {
      const context = state.context;
      const status = await api.connect(context);
      dispatch({ type: "status", context, status });
      void refreshEngagements(context);
    });

  const onDisconnect = () =>
    void run("quit", "quit", async () => {
      const context = state.context;
      await api.quit(context);
      await refreshStatus(context);
      await refreshEngagements(context);
    });

  const onLeave = (e: Engagement) =>
    void run(`leave:${e.id}`, "leave", async () => {
      await api.leave(state.context, e.id);
      dispatch({ type: "engagement", engagement: { ...e, state: "ended", message: e.message || "Left." } });
      void refreshEngagements(state.context);
    });

  const onRun = (image: string, dockerArgs: string[], args: string[]) =>
    run("docker-run", "docker-run", async () => {
      const r = await api.dockerRun({ context: state.context, image, docker_args: dockerArgs, args });
      if (r?.container) {
        dispatch({ type: "container-started", name: r.container });
      }
    });

  const onStop = (name: string) =>
    void run(`stop-container:${name}`, "stop-container", async () => {
      await api.stopContainer(state.context, name);
      dispatch({ type: "container-stopped", name });
    });

  const stopping: Record<string, boolean> = {};
  for (const k of Object.keys(running)) {
    if (k.startsWith("stop-container:")) {
      stopping[k.slice("stop-container:".length)] = true;
    }
  }

  const engagements = state.engagementOrder.map((id) => state.engagements[id]).filter((e) => e !== undefined);

  return (
    <Box sx={{ maxWidth: 1100, mx: "auto", minWidth: 0, overflowX: "hidden" }}>
      <Stack spacing={2} sx={{ minWidth: 0 }}>
        <Typography variant="h1" component="h1" sx={{ fontSize: { xs: 24, sm: 36 } }}>
          Telepresence
        </Typography>
        {unreachable && (
          <Alert severity="warning" data-testid="api-unreachable" role="alert">
            <AlertTitle>telepresence ui cannot be reached</AlertTitle>
            It may have stopped: start it again with <code>telepresence ui</code> and open the address it
            prints. This page keeps retrying on its own.
          </Alert>
        )}
        {pageAction && !running["engage"] && <ActionProgress label={runningLabel} lines={pageAction.lines} />}
        <ErrorAlert message={engaging ? null : error} onClose={() => setError(null)} />
        <ErrorBoundary>
          <ConnectionPanel
            contexts={state.contexts}
            context={state.context}
            status={state.status}
            busy={busyConnection}
            connecting={running.connect === true}
            quitting={running.quit === true}
            onSelect={(context) => {
              setError(null);
              dispatch({ type: "select-context", context });
            }}
            onConnect={onConnect}
            onDisconnect={onDisconnect}
          />
        </ErrorBoundary>
        <ErrorBoundary>
          <WorkloadsPanel
            connected={connected}
            known={state.workloadsKnown}
            rows={state.workloads.map((w) => ({ workload: w, engagement: engagementOfWorkload(state, w) }))}
            busy={busyConnection}
            onEngage={(w) => {
              setError(null);
              setEngaging(w);
            }}
          />
        </ErrorBoundary>
        {engagements.length > 0 && (
          <ErrorBoundary>
            <Stack spacing={2} sx={{ minWidth: 0 }}>
              <Typography variant="h3" component="h2">
                Engagements
              </Typography>
              {engagements.map((e) => (
                <EngagementCard
                  key={e.id}
                  engagement={e}
                  logs={state.logs[e.container]}
                  leaving={running[`leave:${e.id}`] === true}
                  busy={busyConnection}
                  onLeave={() => onLeave(e)}
                  onDismiss={() => dispatch({ type: "forget-engagement", id: e.id })}
                />
              ))}
            </Stack>
          </ErrorBoundary>
        )}
        <ErrorBoundary>
          <DockerRunPanel
            connected={connected}
            running={running["docker-run"] === true}
            busy={busyConnection}
            containers={state.containers}
            logs={state.logs}
            stopping={stopping}
            onRun={onRun}
            onStop={onStop}
          />
        </ErrorBoundary>
      </Stack>
      <ErrorBoundary>
        <EngageDialog
          workload={engaging}
          context={state.context}
          progressLines={state.progress?.action === "engage" ? state.progress.lines : []}
          onStarted={() => dispatch({ type: "action-started", action: "engage" })}
          onEngaged={(e) => dispatch({ type: "engagement", engagement: e })}
          onUnreachable={() => dispatch({ type: "api-reachable", up: false })}
          onClose={() => setEngaging(null)}
        />
      </ErrorBoundary>
    </Box>
  );
}
