import Box from "@mui/material/Box";
import CircularProgress from "@mui/material/CircularProgress";
import LinearProgress from "@mui/material/LinearProgress";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";

interface Props {
  label: string;
  lines: readonly string[];
}

/** A running action: a spinner, an indeterminate bar and the lines it reports so far. */
export function ActionProgress({ label, lines }: Props) {
  const shown = lines.slice(-6);
  return (
    <Box data-testid="action-progress" role="status" aria-live="polite" sx={{ minWidth: 0 }}>
      <Stack direction="row" spacing={1} alignItems="center" sx={{ mb: 0.5 }}>
        <CircularProgress size={16} />
        <Typography variant="body2">{label}</Typography>
      </Stack>
      <LinearProgress />
      {shown.length > 0 && (
        <Box
          component="pre"
          sx={{
            m: 0,
            mt: 0.5,
            fontFamily: "ui-monospace, Menlo, Consolas, monospace",
            fontSize: 12,
            whiteSpace: "pre-wrap",
            overflowWrap: "anywhere",
            color: "text.secondary",
          }}
        >
          {shown.join("\n")}
        </Box>
      )}
    </Box>
  );
}
