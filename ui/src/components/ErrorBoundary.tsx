import { Component, type ErrorInfo, type ReactNode } from "react";
import Alert from "@mui/material/Alert";
import AlertTitle from "@mui/material/AlertTitle";
import Button from "@mui/material/Button";

interface Props {
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/** A render error shows in words with a way back, never as a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error("The page failed to draw:", error, info.componentStack);
  }

  render(): ReactNode {
    if (this.state.error) {
      return (
        <Alert
          severity="error"
          data-testid="error-alert"
          sx={{ m: 2, overflowWrap: "anywhere" }}
          action={
            <Button color="inherit" size="small" onClick={() => this.setState({ error: null })}>
              Try again
            </Button>
          }
        >
          <AlertTitle>This part of the page failed</AlertTitle>
          {this.state.error.message || String(this.state.error)}
        </Alert>
      );
    }
    return this.props.children;
  }
}
