import { useState } from "react";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { useLocalImages } from "./useLocalImages";
import { argsToSend } from "../logic/args";
import { useApi } from "./ApiContext";
import { ArgListEditor } from "./ArgListEditor";
import { ImagePicker } from "./ImagePicker";
import { LogBox } from "./LogBox";

interface Props {
  connected: boolean;
  running: boolean;
  busy: boolean;
  containers: string[];
  logs: Record<string, string[]>;
  stopping: Record<string, boolean>;
  onRun: (image: string, dockerArgs: string[], args: string[]) => Promise<boolean>;
  onStop: (name: string) => void;
}

/** `telepresence docker-run`: a plain container on the cluster network, and its logs. */
export function DockerRunPanel(p: Props) {
  const api = useApi();
  const [image, setImage] = useState("");
  const [dockerArgs, setDockerArgs] = useState<string[]>([]);
  const [args, setArgs] = useState<string[]>([]);
  const { images, error: imagesError } = useLocalImages(api, p.connected);

  async function run() {
    if (image.trim() === "") {
      return;
    }
    const ok = await p.onRun(image.trim(), argsToSend(dockerArgs), argsToSend(args));
    if (ok) {
      setArgs([]);
    }
  }

  return (
    <Paper variant="outlined" sx={{ p: 2, minWidth: 0 }}>
      <Typography variant="h3" component="h2" sx={{ mb: 1 }}>
        Run a container on the cluster network
      </Typography>
      <Stack spacing={2} sx={{ minWidth: 0 }}>
        <ImagePicker
          images={images}
          value={image}
          onChange={setImage}
          testid="docker-run-image"
          disabled={p.running}
          helperText={imagesError ?? "A local image, or any name docker can pull."}
        />
        <ArgListEditor
          label="docker run arguments"
          help="One argument per field, before the image."
          testid="docker-run-docker-arg"
          addTestid="docker-run-add-docker-arg"
          fields={dockerArgs}
          onChange={setDockerArgs}
          disabled={p.running}
        />
        <ArgListEditor
          label="Image arguments"
          help="One argument per field, after the image."
          testid="docker-run-arg"
          addTestid="docker-run-add-arg"
          fields={args}
          onChange={setArgs}
          disabled={p.running}
        />
        <Box>
          <Button
            variant="contained"
            data-testid="docker-run-submit"
            disabled={p.running || p.busy || !p.connected || image.trim() === ""}
            onClick={() => void run()}
          >
            {p.running ? "Starting…" : "Run"}
          </Button>
          {!p.connected && (
            <Typography variant="caption" color="text.secondary" sx={{ ml: 1 }}>
              Connect first.
            </Typography>
          )}
        </Box>
        {p.containers.map((name) => (
          <Paper
            key={name}
            variant="outlined"
            data-testid={`container-card-${name}`}
            sx={{ p: 1.5, minWidth: 0 }}
          >
            <Stack direction="row" spacing={1} alignItems="center" useFlexGap flexWrap="wrap" sx={{ mb: 1 }}>
              <Typography
                variant="body1"
                sx={{ fontWeight: 600, overflowWrap: "anywhere", flex: "1 1 160px", minWidth: 0 }}
              >
                {name}
              </Typography>
              <Button
                size="small"
                variant="outlined"
                color="secondary"
                data-testid={`stop-container-${name}`}
                disabled={p.stopping[name] === true}
                onClick={() => p.onStop(name)}
              >
                {p.stopping[name] ? "Stopping…" : "Stop"}
              </Button>
            </Stack>
            <LogBox container={name} lines={p.logs[name]} />
          </Paper>
        ))}
      </Stack>
    </Paper>
  );
}
