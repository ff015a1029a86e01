import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import type { Workload } from "../api/types";

export interface WorkloadView {
  workload: Workload;
  engagement: { id: string; mode: string; state: string } | null;
}

interface Props {
  connected: boolean;
  known: boolean;
  rows: WorkloadView[];
  busy: boolean;
  onEngage: (w: Workload) => void;
}

/** The cluster's workloads that have a traffic-agent, and how each is engaged. */
export function WorkloadsPanel({ connected, known, rows, busy, onEngage }: Props) {
  return (
    <Paper variant="outlined" sx={{ p: 2, minWidth: 0 }}>
      <Typography variant="h3" component="h2" sx={{ mb: 1 }}>
        Workloads
      </Typography>
      {!connected ? (
        <Typography variant="body2" color="text.secondary">
          Connect to see the cluster's workloads.
        </Typography>
      ) : !known ? (
        <Typography variant="body2" color="text.secondary">
          Reading the workloads…
        </Typography>
      ) : rows.length === 0 ? (
        <Typography variant="body2" color="text.secondary">
          No workload with a traffic-agent.
        </Typography>
      ) : (
        <Stack spacing={1}>
          {rows.map(({ workload: w, engagement: e }) => (
            <Box
              key={w.workload}
              data-testid={`workload-row-${w.workload}`}
              sx={{
                display: "flex",
                flexWrap: "wrap",
                alignItems: "center",
                gap: 1,
                p: 1,
                borderRadius: 1,
                border: 1,
                borderColor: "divider",
                minWidth: 0,
              }}
            >
              <Box sx={{ flex: "1 1 160px", minWidth: 0 }}>
                <Typography variant="body1" sx={{ fontWeight: 600, overflowWrap: "anywhere" }}>
                  {w.workload}
                </Typography>
                {w.mounts.length > 0 && (
                  <Typography variant="caption" color="text.secondary" sx={{ overflowWrap: "anywhere" }}>
                    mounts {w.mounts.join(", ")}
                  </Typography>
                )}
              </Box>
              <Stack direction="row" spacing={0.5} useFlexGap flexWrap="wrap" sx={{ flex: "1 1 100px" }}>
                {w.ports.length === 0 ? (
                  <Typography variant="caption" color="text.secondary">
                    no ports
                  </Typography>
                ) : (
                  w.ports.map((port) => <Chip key={port} size="small" label={port} variant="outlined" />)
                )}
              </Stack>
              <Typography
                variant="body2"
                data-testid={`engagement-of-${w.workload}`}
                sx={{ flex: "1 1 120px" }}
                color={e ? "primary" : "text.secondary"}
              >
                {e ? `${e.mode} · ${e.state}` : "not engaged"}
              </Typography>
              <Button
                size="small"
                variant="contained"
                data-testid={`engage-button-${w.workload}`}
                disabled={busy || e !== null}
                onClick={() => onEngage(w)}
              >
                Engage
              </Button>
            </Box>
          ))}
        </Stack>
      )}
    </Paper>
  );
}
