import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import Alert from "@mui/material/Alert";
import type { Capture, ContextInfo, Status } from "../api/types";

interface Props {
  contexts: ContextInfo[];
  context: string;
  status: Status | null;
  busy: boolean;
  connecting: boolean;
  quitting: boolean;
  onSelect: (context: string) => void;
  onConnect: () => void;
  onDisconnect: () => void;
}

function show(v: unknown): string {
  if (v === undefined || v === null || v === "") {
    return "—";
  }
  if (Array.isArray(v)) {
    return v.length ? v.map(show).join(", ") : "—";
  }
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k of ["name", "id", "Name"]) {
      if (typeof o[k] === "string") {
        return o[k] as string;
      }
    }
    return JSON.stringify(v);
  }
  return String(v);
}

function captureText(capture: Capture | undefined): string | null {
  if (!capture) return null;
  if (!capture.enabled) return "off";
  if (!capture.active) return `not active: ${capture.error}`;
  return `TCP and UDP to ${capture.subnets.join(", ")} on port ${capture.port}`;
}

function Row({ label, value, testid }: { label: string; value: unknown; testid?: string }) {
  return (
    <Box
      sx={{
        display: "grid",
        gridTemplateColumns: { xs: "1fr", sm: "160px 1fr" },
        columnGap: 2,
        py: 0.25,
        minWidth: 0,
      }}
    >
      <Typography variant="body2" color="text.secondary">
        {label}
      </Typography>
      <Typography variant="body2" data-testid={testid} sx={{ overflowWrap: "anywhere", minWidth: 0 }}>
        {show(value)}
      </Typography>
    </Box>
  );
}

/** The context picker, connect/disconnect and what the daemon reports. */
export function ConnectionPanel(p: Props) {
  const connected = p.status?.connected === true;
  const info = p.contexts.find((c) => c.name === p.context);
  const names = p.contexts.length ? p.contexts.map((c) => c.name) : [p.context];
  const tr = p.status?.teleroute_network ?? null;
  return (
    <Paper variant="outlined" sx={{ p: 2, minWidth: 0 }}>
      <Stack spacing={2}>
        <Stack
          direction={{ xs: "column", sm: "row" }}
          spacing={1}
          alignItems={{ xs: "stretch", sm: "center" }}
          useFlexGap
          flexWrap="wrap"
        >
          <TextField
            select
            label="Context"
            size="small"
            value={p.context}
            disabled={p.busy}
            onChange={(e) => p.onSelect(e.target.value)}
            sx={{ minWidth: 180 }}
            slotProps={{
              select: { native: true },
              htmlInput: { "data-testid": "context-select" },
              inputLabel: { shrink: true },
            }}
          >
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </TextField>
          <Button
            variant="contained"
            data-testid="connect-button"
            disabled={p.busy || connected}
            onClick={p.onConnect}
          >
            {p.connecting ? "Connecting…" : "Connect"}
          </Button>
          <Button
            variant="outlined"
            color="secondary"
            data-testid="disconnect-button"
            disabled={p.busy || !connected}
            onClick={p.onDisconnect}
          >
            {p.quitting ? "Disconnecting…" : "Disconnect"}
          </Button>
          <Chip
            data-testid="status-connected"
            color={connected ? "success" : "default"}
            label={connected ? "Connected" : "Not connected"}
            sx={{ alignSelf: { xs: "flex-start", sm: "center" } }}
          />
        </Stack>
        <Box data-testid="status-panel" sx={{ minWidth: 0 }}>
          {p.status?.error ? (
            <Alert severity="warning" sx={{ mb: 1, overflowWrap: "anywhere" }}>
              {p.status.error}
            </Alert>
          ) : null}
          <Row label="Daemon container" value={p.status?.container} testid="status-container" />
          <Row label="Manager" value={p.status?.manager ?? info?.manager} testid="status-manager" />
          <Row label="Cluster network" value={info?.cluster_network} />
          <Row label="Subnets" value={p.status?.subnets ?? info?.cluster_subnets} testid="status-subnets" />
          <Row label="DNS server" value={p.status?.dns?.address} testid="status-dns" />
          <Row label="DNS search" value={p.status?.dns?.search} />
          <Row label="Capture" value={captureText(p.status?.capture)} />
          <Row
            label="Teleroute network"
            value={tr ? `${tr.name}${tr.subnet ? ` (${tr.subnet}, daemon ${tr.daemon})` : ""}` : null}
            testid="status-teleroute"
          />
          {typeof p.status?.reconnects === "number" && p.status.reconnects > 0 ? (
            <Row label="Reconnects" value={p.status.reconnects} />
          ) : null}
        </Box>
      </Stack>
    </Paper>
  );
}
