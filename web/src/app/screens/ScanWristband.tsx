// Scanning a wristband with the rear camera: the preview, and the code read from it handed
// back to the patient search. The reader is loaded on demand; typing the number stays
// available (the button closes the scanner and returns to the search field).
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import "../bodymap/bodymap.css";
import { camera } from "../camera";
import { t } from "../i18n";
import { announce } from "../status";

export function ScanWristband({ onCode, onClose }: { onCode: (code: string) => void; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [failed, setFailed] = useState(false);

  useLayoutEffect(() => {
    heading.current?.focus();
  }, []);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    announce(t("scanStarting"));
    (async () => {
      const v = video.current;
      if (!v) return;
      const [{ makeDetector }] = await Promise.all([import("../scan/detector"), camera.start(v)]);
      const detector = await makeDetector();
      if (!alive) return;
      announce(t("scanReady"));
      const look = async () => {
        if (!alive) return;
        try {
          if (v.readyState >= 2 && v.videoWidth > 0) {
            const found = await detector.detect(v);
            const code = found.map((b) => b.rawValue.trim()).find((s) => s.length > 0);
            if (code && alive) {
              alive = false;
              await camera.stop();
              announce(t("scanRead"));
              onCode(code);
              return;
            }
          }
        } catch {
          /* a frame that could not be read: try the next one */
        }
        timer = setTimeout(() => void look(), 200);
      };
      void look();
    })().catch(() => {
      if (alive) {
        setFailed(true);
        announce("");
      }
    });
    return () => {
      alive = false;
      if (timer !== undefined) clearTimeout(timer);
      void camera.stop();
    };
  }, []);

  return (
    <section class="scan" aria-labelledby="scan-title">
      <h2 id="scan-title" ref={heading} tabIndex={-1}>
        {t("scanTitle")}
      </h2>
      <p class="hint">{t("scanHint")}</p>
      {failed ? (
        <p class="error" role="alert">
          {t("scanUnavailable")}
        </p>
      ) : null}
      <div class="viewfinder">
        <video ref={video} aria-label={t("scanPreview")} muted playsInline autoPlay />
      </div>
      <p>
        <button type="button" class="secondary" onClick={onClose}>
          {t("scanCancel")}
        </button>
      </p>
    </section>
  );
}
