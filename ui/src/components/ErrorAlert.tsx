import Alert from "@mui/material/Alert";

interface Props {
  message: string | null;
  onClose?: () => void;
}

/** The API's `error` sentence, verbatim. */
export function ErrorAlert({ message, onClose }: Props) {
  if (!message) {
    return null;
  }
  return (
    <Alert
      severity="error"
      data-testid="error-alert"
      onClose={onClose}
      sx={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}
    >
      {message}
    </Alert>
  );
}
