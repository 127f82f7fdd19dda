// Pictures on screen from opened photos: object URLs made from memory and revoked when the
// screen goes (or the app locks, which unmounts every screen); thumbnails drawn on a canvas
// in memory. Nothing here is written to any storage.
import { useEffect, useRef } from "preact/hooks";

/** Object URLs a screen made; all revoked when the screen unmounts. */
export function useObjectUrls(): (data: Uint8Array | Blob, type?: string) => string {
  const urls = useRef<string[]>([]);
  useEffect(
    () => () => {
      for (const u of urls.current) URL.revokeObjectURL(u);
      urls.current = [];
    },
    [],
  );
  return (data, type = "image/jpeg") => {
    const blob = data instanceof Blob ? data : new Blob([data as BlobPart], { type });
    const u = URL.createObjectURL(blob);
    urls.current.push(u);
    return u;
  };
}

/** A small JPEG of a photo (longest side `size` px), for lists. */
export async function thumbnail(plain: Uint8Array, type: string, size = 160): Promise<Blob> {
  const bitmap = await createImageBitmap(new Blob([plain as BlobPart], { type }));
  const scale = Math.min(1, size / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
  canvas.width = 0;
  canvas.height = 0;
  if (!blob) throw new Error("no thumbnail");
  return blob;
}

/** The decoded size of a picture, in image pixels. */
export async function pictureSize(plain: Uint8Array, type: string): Promise<{ width: number; height: number }> {
  const bitmap = await createImageBitmap(new Blob([plain as BlobPart], { type }));
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return size;
}

/** A box [x, y, w, h] in image pixels. */
export type Box = [number, number, number, number];

/** The photo with every box filled solid black, re-encoded as a JPEG by a canvas (which
 * writes a bare JFIF header and no metadata): the redacted version (DEI-3). */
export async function redactToJpeg(plain: Uint8Array, type: string, boxes: Box[]): Promise<Uint8Array> {
  const bitmap = await createImageBitmap(new Blob([plain as BlobPart], { type }));
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no canvas");
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  ctx.fillStyle = "#000";
  for (const [x, y, w, h] of boxes) {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    ctx.fillRect(x0, y0, Math.ceil(x + w) - x0, Math.ceil(y + h) - y0);
  }
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  canvas.width = 0;
  canvas.height = 0;
  if (!blob) throw new Error("the redacted photo could not be encoded");
  return new Uint8Array(await blob.arrayBuffer());
}

/** A random file name for an exported photo: says nothing about the patient. */
export function randomFileName(ext = "jpg"): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return `clinphoto-${[...b].map((x) => x.toString(16).padStart(2, "0")).join("")}.${ext}`;
}
