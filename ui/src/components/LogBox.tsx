import { useEffect, useRef } from "react";
import Box from "@mui/material/Box";

interface Props {
  container: string;
  lines: readonly string[] | undefined;
}

/** A container's last lines; follows the end unless the user scrolled up. */
export function LogBox({ container, lines }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const text = (lines ?? []).join("\n");

  useEffect(() => {
    const el = ref.current;
    if (el && follow.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [text]);

  return (
    <Box
      ref={ref}
      data-testid={`logs-${container}`}
      role="log"
      aria-label={`Logs of ${container}`}
      onScroll={() => {
        const el = ref.current;
        if (el) {
          follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }
      }}
      sx={{
        fontFamily: "ui-monospace, Menlo, Consolas, monospace",
        fontSize: 12,
        whiteSpace: "pre-wrap",
        overflowWrap: "anywhere",
        maxHeight: 240,
        minHeight: 48,
        overflowY: "auto",
        p: 1,
        borderRadius: 1,
        bgcolor: "action.hover",
      }}
    >
      {text || (
        <Box component="span" sx={{ color: "text.secondary" }}>
          No output yet.
        </Box>
      )}
    </Box>
  );
}
