// Your devices (decision 011), as the CLI's `device list`, `device approve`, `device grant`
// and `device revoke` do them: the user's devices with their fingerprints; a one-time
// enrollment code for a new one, with a QR code of the enrollment link drawn here (the QR
// encoder loads on demand); giving a new device access to the user's earlier photos and the
// shares sent to them, after the user compares its fingerprint, computed on this phone from
// the device's keys; revoking another device.
import { useEffect, useState } from "preact/hooks";
import { grantDevice, type GrantReport, type GrantsApi } from "../../lib/grants";
import { fingerprint } from "../../lib/keys";
import { ApiError, api, type DeviceOut } from "../api";
import { formatDateTime, hasMessage, t } from "../i18n";
import { href } from "../router";
import { need, unlocked } from "../session";
import { announce } from "../status";
import { AlertDialog, FormError, ScreenTitle, Submit } from "../ui";
import "./devices.css";

function errorText(err: unknown): string {
  return err instanceof ApiError || err instanceof Error ? err.message : String(err);
}

function statusLabel(status: string): string {
  const key = `devStatus_${status}`;
  return hasMessage(key) ? t(key) : status;
}

/** The enrollment link a new phone opens: the app's enrollment screen with the code filled
 * in; the code sits after the #, so it never reaches the server in a URL. */
export function enrollmentLink(origin: string, code: string): string {
  return `${origin.replace(/\/+$/, "")}/#/enroll/${code}`;
}

// --- the list ---------------------------------------------------------------------------------

function ConfirmRevoke({ device, busy, onYes, onNo }: { device: DeviceOut; busy: boolean; onYes: () => void; onNo: () => void }) {
  return (
    <AlertDialog
      title={t("devRevokeConfirmTitle", { name: device.name })}
      body={t("devRevokeConfirmBody")}
      onEscape={onNo}
      testId="revoke-dialog"
    >
      <button data-safe type="button" class="primary" onClick={onNo}>
        {t("devRevokeNo")}
      </button>
      <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={onYes}>
        {busy ? t("devRevoking") : t("devRevokeYes")}
      </button>
    </AlertDialog>
  );
}

export function DeviceList() {
  const [devices, setDevices] = useState<DeviceOut[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<DeviceOut | null>(null);
  const [busy, setBusy] = useState(false);
  const self = need().secrets.deviceId;

  async function load() {
    try {
      setDevices(await api.devices());
    } catch (err) {
      setError(errorText(err));
    }
  }
  useEffect(() => void load(), []);

  async function revoke(d: DeviceOut) {
    setBusy(true);
    setError(null);
    try {
      const done = await api.revokeDevice(d.id);
      announce(t("devRevoked", { name: done.name }));
      setConfirming(null);
      await load();
    } catch (err) {
      setConfirming(null);
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  // This device first, then the other active ones, then the revoked; newest first within.
  const rank = (d: DeviceOut) => (d.id === self ? 0 : d.status === "active" ? 1 : 2);
  const sorted = [...(devices ?? [])].sort((a, b) => rank(a) - rank(b) || b.enrolled_at.localeCompare(a.enrolled_at));

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("devTitle")}</ScreenTitle>
      <p>{t("devIntro")}</p>
      <a class="button primary" href={href({ name: "add-device" })}>
        {t("devAdd")}
      </a>
      <FormError message={error} />
      {devices === null && error === null ? <p class="muted">{t("devLoading")}</p> : null}
      <ul class="results" data-testid="device-list">
        {sorted.map((d) => {
          const mine = d.id === self;
          const other = !mine && d.status === "active";
          return (
            <li key={d.id} class="item" data-testid={mine ? "this-device" : "device"} data-device-id={d.id}>
              <span class="result-name">
                {d.name}
                {mine ? ` (${t("devThisDevice")})` : null}
              </span>
              <span>{statusLabel(d.status)}</span>
              <span>{t("devEnrolled", { date: formatDateTime(new Date(d.enrolled_at)) })}</span>
              {d.revoked_at ? <span>{t("devRevokedAt", { date: formatDateTime(new Date(d.revoked_at)) })}</span> : null}
              <span>
                {t("devFingerprintIs")} <span class="mono">{d.fingerprint}</span>
              </span>
              {mine ? <span class="hint">{t("devThisFingerprintHint")}</span> : null}
              {other ? (
                <span class="device-actions">
                  <a class="button secondary" href={href({ name: "grant-device", deviceId: d.id })}>
                    {t("devGiveAccess", { name: d.name })}
                  </a>
                  <button type="button" class="secondary" onClick={() => setConfirming(d)}>
                    {t("devRevoke", { name: d.name })}
                  </button>
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
      {confirming ? (
        <ConfirmRevoke device={confirming} busy={busy} onYes={() => void revoke(confirming)} onNo={() => setConfirming(null)} />
      ) : null}
    </main>
  );
}

// --- adding a device: the one-time code and its QR code -------------------------------------

/** A QR code's modules as one SVG path: dark squares on a light, quiet border. */
function QrSvg({ text, label }: { text: string; label: string }) {
  const [modules, setModules] = useState<boolean[][] | null>(null);
  useEffect(() => {
    let alive = true;
    void import("uqr").then(({ encode }) => {
      if (alive) setModules(encode(text, { ecc: "M", border: 4 }).data);
    });
    return () => {
      alive = false;
    };
  }, [text]);
  if (!modules) return null;
  let d = "";
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  const n = modules.length;
  return (
    <svg
      class="qr"
      role="img"
      aria-label={label}
      data-testid="enroll-qr"
      viewBox={`0 0 ${n} ${n}`}
      width="264"
      height="264"
      shape-rendering="crispEdges"
    >
      <rect width={n} height={n} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

export function AddDevice() {
  const [issued, setIssued] = useState<{ code: string; hours: number; until: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function getCode() {
    setBusy(true);
    setError(null);
    announce(t("devGettingCode"));
    try {
      const r = await api.enrollmentCode();
      setIssued({ code: r.code, hours: r.expires_in_hours, until: Date.now() + r.expires_in_hours * 3_600_000 });
      announce(t("devCodeTitle"));
    } catch (err) {
      setError(errorText(err));
      announce("");
    } finally {
      setBusy(false);
    }
  }

  const origin = location.origin;
  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("devAddTitle")}</ScreenTitle>
      <p>{t("devAddIntro")}</p>
      {issued ? (
        <section class="card enroll-code" aria-labelledby="code-title">
          <h2 id="code-title">{t("devCodeTitle")}</h2>
          <p class="mono code" data-testid="enroll-code">
            {issued.code}
          </p>
          <p>{t("devCodeValid", { hours: issued.hours, date: formatDateTime(issued.until) })}</p>
          <QrSvg text={enrollmentLink(origin, issued.code)} label={t("devQrLabel")} />
          <p>{t("devScanHint", { origin })}</p>
          <p class="hint mono">{t("devCliHint", { origin, code: issued.code })}</p>
          <p>{t("devAfterEnroll")}</p>
        </section>
      ) : (
        <>
          <FormError message={error} />
          <button type="button" class="primary" disabled={busy} aria-busy={busy} onClick={() => void getCode()}>
            {busy ? t("devGettingCode") : t("devGetCode")}
          </button>
        </>
      )}
      <p>
        <a href={href({ name: "devices" })}>{t("devBackToList")}</a>
      </p>
    </main>
  );
}

// --- giving a new device access ---------------------------------------------------------------

/** The grant routes for grantDevice; they refuse to go on once the app is locked. */
const grantsApi: GrantsApi = {
  missingGrants(deviceId, after, limit) {
    if (unlocked() === null) throw new Error("locked");
    return api.missingGrants(deviceId, after, limit);
  },
  postGrants(deviceId, grants) {
    if (unlocked() === null) throw new Error("locked");
    return api.postGrants(deviceId, grants);
  },
};

type Target = { device: DeviceOut; fingerprint: string } | { problem: string };

async function findTarget(deviceId: string): Promise<Target> {
  const device = (await api.devices()).find((d) => d.id === deviceId);
  if (!device || device.status !== "active") return { problem: t("devNotYours") };
  if (device.id === need().secrets.deviceId) return { problem: t("devIsThisDevice") };
  // Computed here from the keys the new device registered, as the CLI does; the server's
  // value is only compared with it, never shown in its place.
  const computed = await fingerprint(device.age_recipient, device.signing_public);
  if (computed !== device.fingerprint) return { problem: t("devFingerprintMismatch") };
  return { device, fingerprint: computed };
}

export function GiveAccess({ deviceId }: { deviceId: string }) {
  const [target, setTarget] = useState<Target | null>(null);
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<GrantReport | null>(null);
  const [report, setReport] = useState<GrantReport | null>(null);

  useEffect(() => {
    findTarget(deviceId)
      .then(setTarget)
      .catch((err: unknown) => setError(errorText(err)));
  }, [deviceId]);

  async function grant(e: Event) {
    e.preventDefault();
    if (!target || !("device" in target)) return;
    if (!checked) {
      setError(t("devConfirmMissing"));
      return;
    }
    setBusy(true);
    setError(null);
    setReport(null);
    setProgress(null);
    announce(t("devGranting"));
    try {
      const done = await grantDevice(grantsApi, {
        deviceId: target.device.id,
        recipient: target.device.age_recipient,
        ageSecret: need().secrets.ageSecret,
        onProgress: setProgress,
      });
      setReport(done);
      announce(
        done.objects === 0
          ? t("devDoneNothing")
          : t("devDone", { granted: done.granted, existing: done.existing, objects: done.objects }),
      );
    } catch (err) {
      setError(errorText(err));
      announce("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("devAccessTitle")}</ScreenTitle>
      <p>{t("devAccessIntro")}</p>
      {target && "problem" in target ? <FormError message={target.problem} /> : null}
      {target && "device" in target ? (
        <form onSubmit={grant} noValidate>
          <section class="card" aria-labelledby="new-device-title" data-testid="new-device">
            <h2 id="new-device-title">{t("devNewDevice")}</h2>
            <dl>
              <dt>{t("devName")}</dt>
              <dd>{target.device.name}</dd>
              <dt>{t("devEnrolledLabel")}</dt>
              <dd>{formatDateTime(new Date(target.device.enrolled_at))}</dd>
              <dt>{t("devFingerprint")}</dt>
              <dd class="mono" data-testid="new-device-fingerprint">
                {target.fingerprint}
              </dd>
            </dl>
            <p class="hint">{t("devCheckFingerprint")}</p>
          </section>
          <div class="check">
            <input
              type="checkbox"
              id="grant-checked"
              checked={checked}
              onChange={(e) => setChecked((e.currentTarget as HTMLInputElement).checked)}
            />
            <label for="grant-checked">{t("devConfirm")}</label>
          </div>
          <FormError message={error} />
          <Submit busy={busy} label={report ? t("devAgain") : t("devGrant")} busyLabel={t("devGranting")} />
        </form>
      ) : (
        <FormError message={error} />
      )}
      {busy && progress ? <p data-testid="grant-progress">{t("devProgress", { objects: progress.objects, granted: progress.granted })}</p> : null}
      {report ? (
        <div data-testid="grant-result">
          <p class="ok">
            {report.objects === 0
              ? t("devDoneNothing")
              : t("devDone", { granted: report.granted, existing: report.existing, objects: report.objects })}
          </p>
          {report.unopenable.length ? (
            <p class="error-text">{t("devUnopenable", { count: report.unopenable.length })}</p>
          ) : null}
        </div>
      ) : null}
      <p>
        <a href={href({ name: "devices" })}>{t("devBackToList")}</a>
      </p>
    </main>
  );
}

// --- the screens, by route ----------------------------------------------------------------------

export type DeviceRoute = { name: "devices" } | { name: "add-device" } | { name: "grant-device"; deviceId: string };

export function DeviceScreen({ route }: { route: DeviceRoute }) {
  switch (route.name) {
    case "devices":
      return <DeviceList />;
    case "add-device":
      return <AddDevice />;
    case "grant-device":
      return <GiveAccess key={route.deviceId} deviceId={route.deviceId} />;
  }
}
