// The seeing and sharing screens, loaded on demand (they are not part of the first load).
// While the user moves between them the few opened photos stay in memory (open.ts); leaving
// them, or locking, which unmounts every screen, forgets them all. A share recalled by its
// sender (BRE-2) is dropped at once: its screen is left (which zeroes the photo and revokes
// its picture) and the inbox is read again; nothing of a share is ever stored on the phone.
import { useEffect, useState } from "preact/hooks";
import { onShareRecalled } from "../devicestatus";
import { t } from "../i18n";
import { FormError } from "../ui";
import { forgetOpened } from "./open";
import { goSee, type SeeRoute } from "./routes";

type Screens = typeof import("./screens");
let loading: Promise<Screens> | null = null;

export function SeeScreen({ route }: { route: SeeRoute }) {
  const [screens, setScreens] = useState<Screens | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [recalls, setRecalls] = useState(0);
  useEffect(
    () =>
      onShareRecalled((shareId) => {
        if (route.name === "received" && route.shareId === shareId) goSee({ name: "inbox" });
        setRecalls((n) => n + 1);
      }),
    [route],
  );
  useEffect(() => {
    loading ??= import("./screens");
    loading.then(setScreens).catch((err: unknown) => {
      loading = null;
      setError(err instanceof Error ? err.message : String(err));
    });
    return () => forgetOpened();
  }, []);
  if (!screens) {
    return (
      <main id="main" class="screen" aria-busy={error === null}>
        {error ? <FormError message={error} /> : <p class="muted">{t("busy")}</p>}
      </main>
    );
  }
  const S = screens;
  switch (route.name) {
    case "timeline":
      return <S.Timeline key={route.patientId} patientId={route.patientId} />;
    case "photo":
      return <S.Photo key={route.mediaId} patientId={route.patientId} mediaId={route.mediaId} />;
    case "compare":
      return <S.Compare key={`${route.a}/${route.b}`} patientId={route.patientId} a={route.a} b={route.b} />;
    case "redact":
      return <S.Redact key={route.mediaId} patientId={route.patientId} mediaId={route.mediaId} />;
    case "share":
      return <S.Share key={route.mediaId} patientId={route.patientId} mediaId={route.mediaId} />;
    case "inbox":
      return <S.Inbox key={recalls} />;
    case "received":
      return <S.Received key={route.shareId} shareId={route.shareId} />;
    case "sent":
      return <S.Sent key={recalls} />;
  }
}
