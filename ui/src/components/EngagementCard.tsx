import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import type { Engagement } from "../api/types";
import { LogBox } from "./LogBox";

interface Props {
  engagement: Engagement;
  logs: readonly string[] | undefined;
  leaving: boolean;
  busy: boolean;
  onLeave: () => void;
  onDismiss: () => void;
}

const mono = { fontFamily: "ui-monospace, Menlo, Consolas, monospace", fontSize: 12 };

function stateColor(state: string): "success" | "warning" | "default" {
  return state === "active" ? "success" : state === "starting" ? "warning" : "default";
}

/** One engagement: what the container got, its logs, and the way out. */
export function EngagementCard({ engagement: e, logs, leaving, busy, onLeave, onDismiss }: Props) {
  const env = Object.entries(e.env).sort(([a], [b]) => a.localeCompare(b));
  const ended = e.state === "ended";
  return (
    <Paper variant="outlined" data-testid={`engagement-card-${e.id}`} sx={{ p: 2, minWidth: 0 }}>
      <Stack spacing={1.5} sx={{ minWidth: 0 }}>
        <Stack direction="row" spacing={1} alignItems="center" useFlexGap flexWrap="wrap">
          <Typography variant="h3" component="h3" sx={{ overflowWrap: "anywhere" }}>
            {e.mode} {e.workload}
          </Typography>
          <Chip
            size="small"
            color={stateColor(e.state)}
            label={e.state || "unknown"}
            data-testid="engagement-state"
          />
          <Box sx={{ flexGrow: 1 }} />
          {ended ? (
            <Button size="small" onClick={onDismiss}>
              Dismiss
            </Button>
          ) : null}
          <Button
            size="small"
            variant="contained"
            color="secondary"
            data-testid={`leave-button-${e.id}`}
            disabled={ended || leaving || busy}
            onClick={onLeave}
          >
            {leaving ? "Leaving…" : "Leave"}
          </Button>
        </Stack>
        <Typography variant="body2" color="text.secondary" sx={{ overflowWrap: "anywhere" }}>
          Container{" "}
          <Box component="span" sx={mono}>
            {e.container || "—"}
          </Box>{" "}
          from{" "}
          <Box component="span" sx={mono}>
            {e.image || "—"}
          </Box>
        </Typography>
        {e.message ? (
          <Typography variant="body2" sx={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }}>
            {e.message}
          </Typography>
        ) : null}
        {e.note ? (
          <Box>
            <Typography variant="body2" sx={{ fontWeight: 600 }}>
              Environment and volumes
            </Typography>
            <Typography
              variant="caption"
              color="text.secondary"
              data-testid="engagement-note"
              sx={{ overflowWrap: "anywhere" }}
            >
              {e.note}
            </Typography>
          </Box>
        ) : (
          <>
            <Box>
              <Typography variant="body2" sx={{ fontWeight: 600 }}>
                Environment ({env.length})
              </Typography>
              <Box
                data-testid="engagement-env"
                sx={{ ...mono, maxHeight: 200, overflowY: "auto", overflowWrap: "anywhere", minWidth: 0 }}
              >
                {env.length === 0 ? (
                  <Typography variant="caption" color="text.secondary">
                    none yet
                  </Typography>
                ) : (
                  env.map(([k, v]) => (
                    <Box key={k} sx={{ py: 0.25 }}>
                      <Box component="span" sx={{ fontWeight: 600 }}>
                        {k}
                      </Box>
                      ={v}
                    </Box>
                  ))
                )}
              </Box>
            </Box>
            <Box>
              <Typography variant="body2" sx={{ fontWeight: 600 }}>
                Volumes ({e.volumes.length})
              </Typography>
              <Box data-testid="engagement-volumes" sx={{ ...mono, overflowWrap: "anywhere", minWidth: 0 }}>
                {e.volumes.length === 0 ? (
                  <Typography variant="caption" color="text.secondary">
                    none
                  </Typography>
                ) : (
                  e.volumes.map((v) => (
                    <Box key={`${v.name}:${v.path}`} sx={{ py: 0.25 }}>
                      {v.path} ← {v.name}
                    </Box>
                  ))
                )}
              </Box>
            </Box>
          </>
        )}
        {e.container ? (
          <Box>
            <Typography variant="body2" sx={{ fontWeight: 600 }}>
              Logs
            </Typography>
            <LogBox container={e.container} lines={logs} />
          </Box>
        ) : null}
      </Stack>
    </Paper>
  );
}
