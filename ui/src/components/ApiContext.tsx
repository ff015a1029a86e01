import { createContext, useContext } from "react";
import type { TelepresenceApi } from "../api/TelepresenceApi";

/** The one way components reach `telepresence ui`: never fetch directly. */
export const ApiContext = createContext<TelepresenceApi | null>(null);

export function useApi(): TelepresenceApi {
  const api = useContext(ApiContext);
  if (!api) {
    throw new Error("No TelepresenceApi: wrap the page in <ApiContext.Provider>.");
  }
  return api;
}
