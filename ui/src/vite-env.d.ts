// What Vite defines at build time (only what the page reads).
interface ImportMetaEnv {
  /** "production" for the browser build, "extension" for the Docker Desktop extension's. */
  readonly MODE: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
