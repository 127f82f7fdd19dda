// The app shell: which screen shows (install, enroll, unlock, sign in, the clinical screens,
// or an ending), the idle lock and its warning, the language switch and the navigation.
import { useEffect, useState } from "preact/hooks";
import { Vault } from "../lib/vault";
import { api, setAuthHandlers } from "./api";
import { camera } from "./camera";
import { idle } from "./idle";
import { lang, onLangChange, setLang, t } from "./i18n";
import { afterUnlockReport, markLocked, onWipeOrder, reportStatus, wipedByOrder } from "./devicestatus";
import { onOutboxChange, syncOutbox, whenCapturesQueued } from "./outbox";
import { useIsOfficer } from "./officer/visibility";
import { href, useRoute } from "./router";
import { Capture } from "./screens/Capture";
import { Ended, Enroll, InstallFirst, needsInstall, SignIn, Unlock } from "./screens/Access";
import { OutboxScreen } from "./screens/OutboxScreen";
import { Consent, FindPatient, NewPatient, Patient } from "./screens/Patients";
import { SeeScreen } from "./see/SeeScreen";
import { parseSee, seeHref } from "./see/routes";
import { drop, need, unlocked } from "./session";
import { announce, clearStatus, StatusRegion } from "./status";
import { remoteWipe, sendWipeConfirmation, wipeEverything } from "./wipe";
import { AlertDialog, FormError, ScreenTitle } from "./ui";

/** A family of screens loaded on demand (devices, reporting a problem, the privacy office),
 * like the seeing screens: the first load stays small. */
function OnDemand<M>({ load, render }: { load: () => Promise<M>; render: (m: M) => preact.JSX.Element }) {
  const [mod, setMod] = useState<M | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    load()
      .then((m) => setMod(() => m))
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, [load]);
  if (!mod) {
    return (
      <main id="main" class="screen" aria-busy={error === null}>
        {error ? <FormError message={error} /> : <p class="muted">{t("busy")}</p>}
      </main>
    );
  }
  return render(mod);
}

// One promise per family, forgotten when it fails so that the next visit tries again.
function once<M>(load: () => Promise<M>): () => Promise<M> {
  let p: Promise<M> | null = null;
  return () => {
    p ??= load().catch((err: unknown) => {
      p = null;
      throw err;
    });
    return p;
  };
}
const loadDevices = once(() => import("./screens/Devices"));
const loadReport = once(() => import("./screens/Report"));
const loadOfficer = once(() => import("./officer/Officer"));

type Phase = "loading" | "install" | "enroll" | "locked" | "signin" | "ready" | "wiped" | "revoked" | "erased";

let vaultRef: Vault | null = null;

function LockWarning({ seconds, onStay, onLock }: { seconds: number; onStay: () => void; onLock: () => void }) {
  return (
    <AlertDialog title={t("lockWarningTitle")} body={t("lockWarningBody", { seconds })} onEscape={onStay}>
      <button data-safe type="button" class="primary" onClick={onStay}>
        {t("stayUnlocked")}
      </button>
      <button type="button" class="secondary" onClick={onLock}>
        {t("lockNow")}
      </button>
    </AlertDialog>
  );
}

/** The ending after a remote wipe (a phone reported lost or stolen, BRE-4). */
function Erased({ onEnroll }: { onEnroll: () => void }) {
  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("wipedTitle")}</ScreenTitle>
      <p>{t("remoteWipedBody")}</p>
      <button type="button" class="primary" onClick={onEnroll}>
        {t("enrollAgain")}
      </button>
    </main>
  );
}

function Header({ phase, onLock }: { phase: Phase; onLock: () => void }) {
  const isOfficer = useIsOfficer(phase === "ready");
  const other = lang() === "en" ? "fr" : "en";
  return (
    <header class="top">
      <a class="skip" href="#main">
        {t("skipToContent")}
      </a>
      <div class="bar">
        <span class="brand" aria-hidden="true">
          clinphoto
        </span>
        <button
          type="button"
          class="link"
          lang={other === "fr" ? "fr-CA" : "en-CA"}
          aria-label={t("switchLanguageLabel")}
          onClick={() => setLang(other)}
        >
          {t("switchLanguage")}
        </button>
      </div>
      {phase === "ready" ? (
        <nav aria-label={t("mainNav")}>
          <a href={href({ name: "patients" })}>{t("navPatients")}</a>
          <a href={href({ name: "outbox" })}>{t("navOutbox")}</a>
          <a href={seeHref({ name: "inbox" })}>{t("navInbox")}</a>
          <a href={href({ name: "devices" })}>{t("navDevices")}</a>
          <a href={href({ name: "report" })}>{t("navReport")}</a>
          {isOfficer ? <a href={href({ name: "officer", path: "" })}>{t("navOfficer")}</a> : null}
          <button type="button" class="link" onClick={onLock}>
            {t("navLock")}
          </button>
        </nav>
      ) : null}
    </header>
  );
}

function Screens() {
  const route = useRoute();
  const see = parseSee(location.hash); // photos, sharing and the inbox: loaded on demand
  if (see) return <SeeScreen route={see} />;
  switch (route.name) {
    case "patients":
      return <FindPatient />;
    case "new-patient":
      return <NewPatient />;
    case "patient":
      return <Patient key={route.patientId} patientId={route.patientId} />;
    case "consent":
      return <Consent key={route.patientId} patientId={route.patientId} />;
    case "capture":
      return <Capture key={route.encounterId} patientId={route.patientId} encounterId={route.encounterId} />;
    case "outbox":
      return <OutboxScreen />;
    case "devices":
    case "add-device":
    case "grant-device":
      return <OnDemand load={loadDevices} render={(m) => <m.DeviceScreen route={route} />} />;
    case "report":
      return <OnDemand load={loadReport} render={(m) => <m.ReportScreen />} />;
    case "officer":
      return <OnDemand load={loadOfficer} render={(m) => <m.OfficerScreen path={route.path} />} />;
  }
}

export function App() {
  const [phase, setPhase] = useState<Phase>("loading");
  const [warning, setWarning] = useState<number | null>(null);
  const [, setLangTick] = useState(0);

  useEffect(() => onLangChange(() => setLangTick((n) => n + 1)), []);

  async function lock() {
    // A capture being sealed finishes and is queued first: nothing taken is lost.
    await whenCapturesQueued();
    await camera.stop();
    idle.stop();
    vaultRef?.lock();
    drop();
    markLocked();
    void reportStatus(); // the server learns the phone is locked (BRE-5)
    clearStatus();
    setWarning(null);
    setPhase("locked");
    announce(t("locked"));
  }

  async function ended(kind: "revoked") {
    // A revoked phone may also have a wipe waiting (reported lost): that one is confirmed.
    await reportStatus(true);
    if (wipedByOrder()) return;
    idle.stop();
    await camera.stop();
    await wipeEverything(vaultRef);
    vaultRef = null;
    setWarning(null);
    setPhase(kind);
  }

  function afterUnlock() {
    idle.start();
    void api
      .me()
      .then((me) => idle.configure(me.device_policy.lock_after_seconds, me.device_policy.lock_warning_seconds))
      .catch(() => undefined); // offline: the delay last received stays
    setPhase("ready");
    if (!location.hash) location.hash = href({ name: "patients" });
    void syncOutbox().catch(() => undefined);
    const held = unlocked();
    if (held) void afterUnlockReport(held.secrets.deviceId);
  }

  useEffect(() => {
    setAuthHandlers({
      revoked: () => void ended("revoked"),
      expired: () => {
        if (unlocked()) setPhase("signin");
      },
    });
    const unsub = idle.subscribe((state, ms) => {
      if (state === "locked") void lock();
      else if (state === "warning") setWarning(Math.max(0, Math.ceil(ms / 1000)));
      else setWarning(null);
    });
    onWipeOrder(async (order, key) => {
      idle.stop();
      await camera.stop();
      await remoteWipe(order, key, vaultRef);
      vaultRef = null;
      clearStatus(); // it may have named what was being done
      setWarning(null);
      setPhase("erased");
    });
    // Report after the outbox changed (a capture queued, a sync done), once it settles.
    let soon: ReturnType<typeof setTimeout> | null = null;
    const unsubOutbox = onOutboxChange(() => {
      if (soon !== null) clearTimeout(soon);
      soon = setTimeout(() => void reportStatus(), 2000);
    });
    const sync = () => {
      if (document.visibilityState === "visible") void syncOutbox().catch(() => undefined);
    };
    const online = () => {
      void sendWipeConfirmation();
      void reportStatus(true);
    };
    addEventListener("online", sync);
    addEventListener("online", online);
    addEventListener("visibilitychange", sync);
    (async () => {
      vaultRef = await Vault.load();
      if (vaultRef.exists()) {
        markLocked();
        setPhase("locked");
      } else setPhase(needsInstall() ? "install" : "enroll");
      // Even locked: a phone reported lost wipes itself at its first contact (BRE-4).
      void sendWipeConfirmation();
      void reportStatus(true);
    })().catch(() => setPhase("enroll"));
    return () => {
      unsub();
      unsubOutbox();
      if (soon !== null) clearTimeout(soon);
      removeEventListener("online", sync);
      removeEventListener("online", online);
      removeEventListener("visibilitychange", sync);
    };
  }, []);

  function enrollAgain() {
    void Vault.load().then((v: Vault) => {
      vaultRef = v;
      setPhase(needsInstall() ? "install" : "enroll");
    });
  }

  let body;
  switch (phase) {
    case "loading":
      body = <main id="main" class="screen" aria-busy="true" />;
      break;
    case "install":
      body = <InstallFirst />;
      break;
    case "enroll":
      body = (
        <Enroll
          onDone={(v) => {
            vaultRef = v;
            afterUnlock();
          }}
        />
      );
      break;
    case "locked":
      body = vaultRef ? (
        <Unlock
          vault={vaultRef}
          onUnlocked={afterUnlock}
          onWiped={() => {
            void wipeEverything(null).then(() => {
              vaultRef = null;
              setPhase("wiped");
            });
          }}
        />
      ) : null;
      break;
    case "signin":
      body = (
        <SignIn
          onSignedIn={async (token) => {
            const held = need();
            held.secrets = { ...held.secrets, token };
            await vaultRef?.save(held.secrets);
            setPhase("ready");
            void syncOutbox().catch(() => undefined);
            void reportStatus(); // registers the status key if the old session could not
          }}
        />
      );
      break;
    case "ready":
      body = <Screens />;
      break;
    case "wiped":
    case "revoked":
      body = <Ended kind={phase} onEnroll={enrollAgain} />;
      break;
    case "erased":
      body = <Erased onEnroll={enrollAgain} />;
      break;
  }

  return (
    <>
      <Header phase={phase} onLock={() => idle.lockNow()} />
      {body}
      <StatusRegion />
      {warning !== null && phase === "ready" ? (
        <LockWarning seconds={warning} onStay={() => idle.extend()} onLock={() => idle.lockNow()} />
      ) : null}
    </>
  );
}
