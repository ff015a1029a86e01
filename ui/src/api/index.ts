export * from "./types";
export * from "./TelepresenceApi";
export { HttpTelepresenceApi } from "./http";
export { parseServerEvent, normalizeEngagement } from "./events";
