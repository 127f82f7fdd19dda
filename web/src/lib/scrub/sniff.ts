// What a file is, judged by its first bytes only, never by its name or a declared type: the
// same decisions, in the same order, as the server's src/clinphoto/imaging/sniff.py, so the
// same bytes are refused for the same reason on both sides.
import { ScrubError } from "./errors";
import { ascii, startsWith, u32be } from "./bytes";

/** Enough for every signature below, the ftyp brands and the EBML DocType. */
export const HEAD_BYTES = 4096;

/** The formats the server accepts; the browser scrubs only "jpeg" and "png" of them. */
export type Kind =
  | "jpeg"
  | "png"
  | "webp"
  | "gif"
  | "tiff"
  | "heif"
  | "avif"
  | "mp4"
  | "mov"
  | "webm"
  | "mkv";

/** How each kind is named in a refusal. */
export const KIND_NAMES: Readonly<Record<Kind, string>> = {
  jpeg: "JPEG",
  png: "PNG",
  webp: "WebP",
  gif: "GIF",
  tiff: "TIFF",
  heif: "HEIC/HEIF",
  avif: "AVIF",
  mp4: "MP4 video",
  mov: "QuickTime video",
  webm: "WebM video",
  mkv: "Matroska video",
};

const brands = (...names: string[]): Set<string> => new Set(names);

// ISO-BMFF brands (ISO/IEC 14496-12, 23008-12 HEIF, AV1-AVIF, QuickTime).
const AVIF_BRANDS = brands("avif", "avis");
const HEIF_BRANDS = brands("heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "heif", "jpeg");
const HEIF_STRUCTURAL = brands("mif1", "msf1", "mif2", "miaf");
const MOV_BRANDS = brands("qt  ");
// prettier-ignore
const MP4_BRANDS = brands(
  "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9",
  "mp41", "mp42", "mp71", "avc1", "hvc1", "av01", "M4V ", "M4VH", "M4VP",
  "MSNV", "dash", "3gp4", "3gp5", "3gp6", "3gp7", "3gp8", "3gp9", "3g2a",
  "3g2b", "3g2c", "f4v ", "XAVC", "mmp4", "NDAS", "caqv",
);
// Brands that say "camera raw" or "not a picture we take", named in the refusal.
const REJECTED_BRANDS: ReadonlyMap<string, string> = new Map([
  ["crx ", "a Canon CR3 camera raw file"],
  ["M4A ", "an MPEG-4 audio file"],
  ["M4B ", "an MPEG-4 audio book"],
  ["jp2 ", "a JPEG 2000 image"],
  ["jpx ", "a JPEG 2000 image"],
  ["jxl ", "a JPEG XL image"],
]);
// QuickTime files older than the ftyp box start with one of these top-level atoms.
const QT_ATOMS = brands("moov", "mdat", "wide", "free", "skip", "pnot");

// Signatures of formats we refuse, so the refusal can say what the file is.
const REJECTED_MAGIC: ReadonlyArray<readonly [Uint8Array, string]> = (
  [
    ["BM", "a BMP image"],
    ["8BPS", "a Photoshop document"],
    ["%PDF", "a PDF document"],
    ["%!PS", "a PostScript document"],
    ["\xc5\xd0\xd3\xc6", "an EPS document"],
    ["\xff\x4f\xff\x51", "a JPEG 2000 codestream"],
    ["\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"],
    ["\xff\x0a", "a JPEG XL image"],
    ["\x00\x00\x00\x0cJXL \r\n\x87\n", "a JPEG XL image"],
    ["\x00\x00\x01\x00", "a Windows icon"],
    ["\x00\x00\x02\x00", "a Windows cursor"],
    ["icns", "a macOS icon"],
    ["qoif", "a QOI image"],
    ["DDS ", "a DirectDraw surface"],
    ["gimp xcf", "a GIMP document"],
    ["FUJIFILMCCD-RAW", "a Fujifilm RAF camera raw file"],
    ["IIRO", "an Olympus ORF camera raw file"],
    ["IIRS", "an Olympus ORF camera raw file"],
    ["MMOR", "an Olympus ORF camera raw file"],
    ["IIU\x00", "a Panasonic RW2 camera raw file"],
    ["FOVb", "a Sigma X3F camera raw file"],
    ["OggS", "an Ogg stream"],
    ["FLV", "a Flash video"],
    ["\x30\x26\xb2\x75\x8e\x66\xcf\x11", "an ASF/WMV video"],
    ["\x00\x00\x01\xba", "an MPEG program stream"],
    ["\x00\x00\x01\xb3", "an MPEG video stream"],
    ["PK\x03\x04", "a ZIP archive"],
    ["\x1f\x8b", "a gzip archive"],
    ["<svg", "an SVG drawing"],
    ["<?xml", "an XML document"],
    ["\xd7\xcd\xc6\x9a", "a Windows metafile"],
    ["\x01\x00\x00\x00", "an enhanced metafile or other binary"],
    ["\x59\xa6\x6a\x95", "a Sun raster image"],
    ["\x01\xda", "an SGI image"],
    ["\x76\x2f\x31\x01", "an OpenEXR image"],
    ["#?RADIANCE", "a Radiance HDR image"],
    ["SIMPLE  =", "a FITS image"],
    ["\x00\x00\x00\x00\x00\x00\x00\x00", "binary data with no signature"],
  ] as const
).map(([magic, what]) => [ascii(magic), what] as const);

const JPEG_MAGIC = ascii("\xff\xd8\xff");
const PNG_MAGIC = ascii("\x89PNG\r\n\x1a\n");

function text4(head: Uint8Array, at: number): string {
  return String.fromCharCode(...head.subarray(at, at + 4));
}

function kindOfBrands(names: readonly string[], compatible: readonly string[]): Kind | null {
  if (names.some((b) => AVIF_BRANDS.has(b))) return "avif";
  if (names.some((b) => HEIF_BRANDS.has(b))) return "heif";
  if (names.some((b) => HEIF_STRUCTURAL.has(b))) {
    // A generic HEIF brand as major brand: the codec brand may be among the compatible ones.
    return compatible.some((b) => AVIF_BRANDS.has(b)) ? "avif" : "heif";
  }
  if (names.some((b) => MOV_BRANDS.has(b))) return "mov";
  if (names.some((b) => MP4_BRANDS.has(b))) return "mp4";
  return null;
}

function ftypKind(head: Uint8Array): Kind {
  let size = u32be(head, 0);
  let brandsAt = 8;
  if (size === 1 && head.length >= 16) {
    size = u32be(head, 8) * 2 ** 32 + u32be(head, 12); // 64-bit size follows the type
    brandsAt = 16;
  }
  if (size < 16 || head.length < brandsAt + 8) {
    throw new ScrubError("truncated ISO media file: the ftyp box is cut off", "truncated");
  }
  const end = Math.min(size, head.length);
  const major = text4(head, brandsAt);
  const compatible: string[] = [];
  for (let i = brandsAt + 8; i < end - 3; i += 4) compatible.push(text4(head, i));
  const named = REJECTED_BRANDS.get(major); // before the compatible brands: CR3 lists isom
  if (named !== undefined) throw new ScrubError(`${named} is not accepted`, "unsupported-format");
  for (const names of [[major], compatible]) {
    const kind = kindOfBrands(names, compatible);
    if (kind !== null) return kind;
  }
  throw new ScrubError(
    "an ISO media file that is neither a HEIF/AVIF image nor an MP4/MOV video",
    "unsupported-format",
  );
}

function ebmlKind(head: Uint8Array): Kind {
  // WebM or Matroska from the EBML header's DocType element (ID 42 82).
  for (let at = 4; at + 2 <= Math.min(64, head.length); at++) {
    if (head[at] === 0x42 && head[at + 1] === 0x82) {
      if (at + 3 > head.length) return "mkv";
      const sizeByte = head[at + 2]!;
      if (sizeByte & 0x80) {
        const doctype = head.subarray(at + 3, at + 3 + (sizeByte & 0x7f));
        if (doctype.length === 4 && startsWith(doctype, ascii("webm"))) return "webm";
      }
      return "mkv";
    }
  }
  return "mkv";
}

/**
 * The kind of the data whose first bytes (up to HEAD_BYTES) are `head`.
 *
 * Throws ScrubError with reason "empty" for no bytes, "unsupported-format" for anything that
 * is not a Kind, "truncated" for a cut-off ftyp box and "malformed" for FF D8 without a marker.
 */
export function sniff(head: Uint8Array): Kind {
  if (head.length === 0) throw new ScrubError("the file is empty", "empty");
  if (startsWith(head, JPEG_MAGIC)) return "jpeg";
  if (startsWith(head, PNG_MAGIC)) return "png";
  if (startsWith(head, ascii("GIF87a")) || startsWith(head, ascii("GIF89a"))) return "gif";
  if (startsWith(head, ascii("RIFF")) && startsWith(head, ascii("WEBP"), 8)) return "webp";
  for (const magic of ["II*\x00", "MM\x00*", "II+\x00", "MM\x00+"]) {
    if (startsWith(head, ascii(magic))) {
      if (head.length >= 12 && startsWith(head, ascii("CR"), 8) && startsWith(head, ascii("II"))) {
        throw new ScrubError("a Canon CR2 camera raw file is not accepted", "unsupported-format");
      }
      return "tiff";
    }
  }
  if (startsWith(head, ascii("ftyp"), 4)) return ftypKind(head);
  if (startsWith(head, ascii("\x1a\x45\xdf\xa3"))) return ebmlKind(head);
  if (head.length >= 8 && QT_ATOMS.has(text4(head, 4)) && u32be(head, 0) >= 8) return "mov";
  if (startsWith(head, ascii("RIFF"))) {
    if (startsWith(head, ascii("AVI "), 8)) {
      throw new ScrubError("an AVI video is not accepted", "unsupported-format");
    }
    if (startsWith(head, ascii("WAVE"), 8)) {
      throw new ScrubError("a WAV sound file is not accepted", "unsupported-format");
    }
  }
  for (const [magic, what] of REJECTED_MAGIC) {
    if (startsWith(head, magic)) throw new ScrubError(`${what} is not accepted`, "unsupported-format");
  }
  if (startsWith(head, ascii("\xff\xd8"))) {
    throw new ScrubError("the data starts like a JPEG (FF D8) but no marker follows", "malformed");
  }
  throw new ScrubError(
    "unknown file format: the app imports JPEG and PNG pictures",
    "unsupported-format",
  );
}
