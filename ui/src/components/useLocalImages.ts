import { useEffect, useState } from "react";
import { errorText, type TelepresenceApi } from "../api/TelepresenceApi";

/**
 * The engine's local images for an image picker, read again whenever `refresh` changes (the
 * dialog opening, the connection changing): the list, or the sentence saying why there is none.
 */
export function useLocalImages(
  api: TelepresenceApi,
  refresh: unknown,
): { images: string[]; error: string | null } {
  const [images, setImages] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.images().then(
      (list) => {
        if (live) {
          setImages(list);
          setError(null);
        }
      },
      (e: unknown) => {
        if (live) setError(`The local images could not be listed: ${errorText(e)}`);
      },
    );
    return () => {
      live = false;
    };
  }, [api, refresh]);
  return { images, error };
}
