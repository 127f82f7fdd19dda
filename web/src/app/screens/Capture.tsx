// The in-app camera for one encounter: preview, light, shutter. Each photo is re-encoded
// without metadata, sealed, queued and sent; nothing goes to the gallery or downloads.
import { useEffect, useRef, useState } from "preact/hooks";
import { camera } from "../camera";
import { plural, t } from "../i18n";
import { href } from "../router";
import { outbox, queueCapture, syncOutbox } from "../outbox";
import { announce } from "../status";
import { FormError, ScreenTitle } from "../ui";

export function Capture({ patientId, encounterId }: { patientId: string; encounterId: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [ready, setReady] = useState(false);
  const [denied, setDenied] = useState(false);
  const [torch, setTorch] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [taken, setTaken] = useState(0);

  async function start() {
    const v = video.current;
    if (!v) return;
    try {
      await camera.start(v);
      setDenied(false);
      setReady(true);
      setTorch(camera.hasTorch() ? false : null);
      announce(t("cameraReady"));
    } catch {
      setReady(false);
      setDenied(true);
    }
  }

  useEffect(() => {
    announce(t("cameraStarting"));
    void start();
    // Phones stop the camera in the background; take it again on return, idempotently.
    const resume = () => {
      if (document.visibilityState === "visible" && !camera.live()) void start();
    };
    const hide = () => {
      if (document.visibilityState === "hidden") void camera.stop();
    };
    addEventListener("visibilitychange", resume);
    addEventListener("visibilitychange", hide);
    addEventListener("pageshow", resume);
    addEventListener("focus", resume);
    return () => {
      removeEventListener("visibilitychange", resume);
      removeEventListener("visibilitychange", hide);
      removeEventListener("pageshow", resume);
      removeEventListener("focus", resume);
      void camera.stop();
    };
  }, []);

  async function shoot() {
    const v = video.current;
    if (!v || busy) return;
    performance.mark("clinphoto:shutter"); // User Timing: shutter to sealed (docs/benchmarks.md)
    setBusy(true);
    setError(null);
    announce(t("sealing"));
    try {
      await queueCapture(camera.shoot(v), patientId, encounterId);
      performance.measure("clinphoto:capture", "clinphoto:shutter", "clinphoto:sealed");
      setTaken((n) => n + 1);
      const waiting = (await (await outbox()).list()).length;
      announce(t("sealed", { count: waiting }));
      const { sent } = await syncOutbox();
      if (sent > 0) {
        const left = (await (await outbox()).list()).length;
        announce(left ? `${t("sent")} ${plural("outboxWaitingOne", "outboxWaiting", left)}` : t("sent"));
      }
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen capture">
      <ScreenTitle>{t("captureTitle")}</ScreenTitle>
      <p class="hint">{t("captureHint")}</p>
      <div class="viewfinder">
        <video ref={video} aria-label={t("preview")} muted playsInline autoPlay />
      </div>
      {denied ? (
        <div>
          <p class="error" role="alert">
            {t("cameraDenied")}
          </p>
          <button type="button" class="secondary" onClick={() => void start()}>
            {t("cameraRetry")}
          </button>
        </div>
      ) : null}
      <FormError message={error} />
      <div class="capture-bar">
        {torch !== null ? (
          <button
            type="button"
            class="secondary"
            aria-pressed={torch}
            onClick={() => void camera.toggleTorch().then(setTorch)}
          >
            {t("torch")}
          </button>
        ) : null}
        <button type="button" class="shutter" disabled={!ready || busy} aria-busy={busy} onClick={() => void shoot()}>
          {t("shutter")}
        </button>
        <a class="button secondary" href={href({ name: "outbox" })}>
          {t("done")}
        </a>
      </div>
      <p class="muted" aria-hidden="true">
        {taken > 0 ? `${taken} ✓` : ""}
      </p>
    </main>
  );
}
