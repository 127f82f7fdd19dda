// Import a JPEG or PNG picture from the phone's files (a file picker: the app never reads
// or writes the camera roll itself). The picture is cleaned on the phone by the same rules
// as the server's scrubber (DEI-1), refused with the reason when it cannot be cleaned
// safely, then sealed and queued like a photo taken in the app.
import { useId, useState } from "preact/hooks";
import { hasMessage, t } from "../i18n";
import type { CaptureExtras } from "../outbox";
import { scrubInWorker } from "../scan/scrub";
import { announce } from "../status";

/** Sealing is the caller's: given the cleaned picture and its type, it seals and queues it
 * (with the capture screen's body site and caption) and says what it did; it returns false
 * when the caption still needs the user (nothing is queued then). */
export function ImportFile({
  ready,
  seal,
}: {
  ready: () => boolean;
  seal: (picture: Uint8Array, contentType: NonNullable<CaptureExtras["contentType"]>) => Promise<void>;
}) {
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string | null>(null);

  async function picked(input: HTMLInputElement) {
    const file = input.files?.[0];
    if (!file) return;
    setRefused(null);
    if (!ready()) {
      input.value = "";
      return;
    }
    setBusy(true);
    announce(t("importing"));
    try {
      const result = await scrubInWorker(new Uint8Array(await file.arrayBuffer()));
      if (!result.ok) {
        const key = `scrub_${result.reason}`;
        const reason = hasMessage(key) ? t(key) : t("scrub_other");
        setRefused(t("importRefused", { reason }));
        announce("");
        return;
      }
      await seal(result.data, result.mediaType);
    } finally {
      input.value = ""; // the same file can be picked again; nothing of it is kept here
      setBusy(false);
    }
  }

  return (
    <div class="field import">
      <label for={id}>{t("importLabel")}</label>
      <p class="hint" id={`${id}-hint`}>
        {t("importHint")}
      </p>
      <input
        id={id}
        type="file"
        accept="image/jpeg,image/png,.jpg,.jpeg,.png"
        aria-describedby={`${id}-hint`}
        disabled={busy}
        onChange={(e) => void picked(e.currentTarget as HTMLInputElement)}
      />
      {refused ? (
        <p class="error" role="alert" data-testid="import-refused">
          {refused}
        </p>
      ) : null}
    </div>
  );
}
