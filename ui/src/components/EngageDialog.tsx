import { useEffect, useState } from "react";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogTitle from "@mui/material/DialogTitle";
import FormControlLabel from "@mui/material/FormControlLabel";
import Radio from "@mui/material/Radio";
import RadioGroup from "@mui/material/RadioGroup";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import useMediaQuery from "@mui/material/useMediaQuery";
import { useTheme } from "@mui/material/styles";
import { errorText, ApiError } from "../api/TelepresenceApi";
import {
  ENGAGE_MODES,
  type EngageMode,
  type EngageRequest,
  type Engagement,
  type Workload,
} from "../api/types";
import { argsToSend } from "../logic/args";
import { checkPortField } from "../logic/ports";
import { useApi } from "./ApiContext";
import { ActionProgress } from "./ActionProgress";
import { ArgListEditor } from "./ArgListEditor";
import { ErrorAlert } from "./ErrorAlert";
import { ImagePicker } from "./ImagePicker";
import { useLocalImages } from "./useLocalImages";

interface Props {
  workload: Workload | null;
  context: string;
  progressLines: readonly string[];
  onStarted: () => void;
  onEngaged: (e: Engagement) => void;
  onUnreachable: () => void;
  onClose: () => void;
}

const MODE_HELP: Record<EngageMode, string> = {
  replace: "The container takes the workload's place: all its traffic comes here.",
  intercept: "Traffic to one port of the workload comes here (needs a port).",
  ingest: "The container gets the workload's environment and volumes; no traffic is redirected.",
  wiretap: "The container gets a copy of the workload's traffic; the workload keeps answering.",
};

/** Engages one workload: mode, image or build folder, ports, docker and image arguments. */
export function EngageDialog({
  workload,
  context,
  progressLines,
  onStarted,
  onEngaged,
  onUnreachable,
  onClose,
}: Props) {
  const api = useApi();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  const [mode, setMode] = useState<EngageMode>("replace");
  const [source, setSource] = useState<"image" | "build">("image");
  const [image, setImage] = useState("");
  const [buildFolder, setBuildFolder] = useState("");
  const [ports, setPorts] = useState("");
  const [dockerArgs, setDockerArgs] = useState<string[]>([]);
  const [imageArgs, setImageArgs] = useState<string[]>([]);
  const { images, error: imagesError } = useLocalImages(api, workload);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [tried, setTried] = useState(false);

  const open = workload !== null;

  useEffect(() => {
    if (!workload) {
      return;
    }
    setMode("replace");
    setSource("image");
    setImage("");
    setBuildFolder("");
    setPorts("");
    setDockerArgs([]);
    setImageArgs([]);
    setError(null);
    setTried(false);
  }, [workload]);

  const portCheck = checkPortField(ports, mode === "intercept");
  const imageMissing = source === "image" ? image.trim() === "" : buildFolder.trim() === "";
  const folderRelative =
    source === "build" && buildFolder.trim() !== "" && !buildFolder.trim().startsWith("/");
  const invalid = portCheck.error !== null || imageMissing || folderRelative;

  async function submit() {
    setTried(true);
    if (!workload || invalid) {
      return;
    }
    const request: EngageRequest = {
      context,
      workload: workload.workload,
      mode,
      ports: portCheck.ports,
      docker_args: argsToSend(dockerArgs),
      args: argsToSend(imageArgs),
    };
    if (source === "image") {
      request.image = image.trim();
    } else {
      request.build_folder = buildFolder.trim();
    }
    setBusy(true);
    setError(null);
    onStarted();
    try {
      const e = await api.engage(request);
      onEngaged(e);
      onClose();
    } catch (e) {
      if (e instanceof ApiError && e.unreachable) {
        onUnreachable();
      }
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      onClose={busy ? undefined : onClose}
      fullScreen={narrow}
      fullWidth
      maxWidth="sm"
      data-testid="engage-dialog"
      aria-labelledby="engage-title"
    >
      <DialogTitle id="engage-title" sx={{ overflowWrap: "anywhere" }}>
        Engage {workload?.workload}
      </DialogTitle>
      <DialogContent dividers>
        <Box
          component="form"
          noValidate
          onSubmit={(ev) => {
            ev.preventDefault();
            void submit();
          }}
        >
          <Stack spacing={2}>
            <TextField
              select
              label="Mode"
              size="small"
              value={mode}
              disabled={busy}
              onChange={(e) => {
                const next = e.target.value as EngageMode;
                setMode(next);
                // intercept needs a port: start from the workload's first one.
                if (next === "intercept" && ports.trim() === "" && workload?.ports.length) {
                  setPorts(String(workload.ports[0]));
                }
              }}
              helperText={MODE_HELP[mode]}
              slotProps={{
                select: { native: true },
                htmlInput: { "data-testid": "engage-mode" },
                inputLabel: { shrink: true },
              }}
            >
              {ENGAGE_MODES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </TextField>
            <TextField
              label={mode === "intercept" ? "Port (required)" : "Ports"}
              size="small"
              value={ports}
              disabled={busy}
              onChange={(e) => setPorts(e.target.value)}
              error={(tried || ports !== "") && portCheck.error !== null}
              helperText={
                ((tried || ports !== "") && portCheck.error) ||
                `LOCAL or LOCAL:CONTAINER, e.g. 8080 or 8080:9090; several separated by commas.${
                  workload?.ports.length ? ` The workload's ports: ${workload.ports.join(", ")}.` : ""
                }`
              }
              slotProps={{
                htmlInput: { "data-testid": "engage-port", inputMode: "text", spellCheck: false },
              }}
            />
            <RadioGroup
              row
              value={source}
              onChange={(e) => setSource(e.target.value === "build" ? "build" : "image")}
            >
              <FormControlLabel
                value="image"
                control={<Radio size="small" />}
                label="Image"
                disabled={busy}
              />
              <FormControlLabel
                value="build"
                control={<Radio size="small" />}
                label="Build folder"
                disabled={busy}
              />
            </RadioGroup>
            {source === "image" ? (
              <ImagePicker
                images={images}
                value={image}
                onChange={setImage}
                testid="engage-image"
                disabled={busy}
                error={tried && imageMissing}
                helperText={
                  tried && imageMissing
                    ? "Pick or type an image."
                    : (imagesError ?? "A local image, or any name docker can pull.")
                }
              />
            ) : (
              <TextField
                label="Build folder"
                size="small"
                value={buildFolder}
                disabled={busy}
                onChange={(e) => setBuildFolder(e.target.value)}
                error={(tried && imageMissing) || folderRelative}
                helperText={
                  folderRelative
                    ? "Write the folder's absolute path (it starts with /)."
                    : "The absolute path of a folder with a Dockerfile (docker build)."
                }
                slotProps={{ htmlInput: { "data-testid": "engage-build-folder", spellCheck: false } }}
              />
            )}
            <ArgListEditor
              label="docker run arguments"
              help="One argument per field, before the image: -e then X=1 are two fields."
              testid="engage-docker-arg"
              addTestid="engage-add-docker-arg"
              fields={dockerArgs}
              onChange={setDockerArgs}
              disabled={busy}
            />
            <ArgListEditor
              label="Image arguments"
              help="One argument per field, after the image."
              testid="engage-image-arg"
              addTestid="engage-add-image-arg"
              fields={imageArgs}
              onChange={setImageArgs}
              disabled={busy}
            />
            {busy && <ActionProgress label={`Engaging ${workload?.workload ?? ""}…`} lines={progressLines} />}
            <ErrorAlert message={error} onClose={() => setError(null)} />
          </Stack>
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button variant="contained" data-testid="engage-submit" disabled={busy} onClick={() => void submit()}>
          {busy ? "Engaging…" : "Engage"}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
