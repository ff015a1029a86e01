import { createDockerDesktopClient } from "@docker/extension-api-client";
import { ExtensionTelepresenceApi, type DesktopClient } from "./extension";

/**
 * The API of the page in Docker Desktop's extension tab, over the client that Docker Desktop
 * injects (`window.ddClient`). Opened anywhere else, the page gets an API whose every call fails
 * with a sentence saying so (extension.ts's NO_DOCKER_DESKTOP), never a blank page.
 */
export function createExtensionApi(): ExtensionTelepresenceApi {
  let client: DesktopClient | null;
  try {
    client = createDockerDesktopClient() as unknown as DesktopClient;
  } catch {
    client = null;
  }
  return new ExtensionTelepresenceApi(client);
}
