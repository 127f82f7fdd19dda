// "Report a problem" (issue 10 §3, BRE-1): a lost or stolen phone or computer (one of the
// user's devices, this one included: it is revoked at once and erased at its next contact),
// a photo sent to the wrong person (the share, chosen beside it on the photo's share status:
// it is recalled at once), a photo shown by accident, or something else. Each goes to the
// breach register (POST /v1/breaches), which the privacy office follows up.
import { useEffect, useId, useState } from "preact/hooks";
import { ApiError, api, type BreachKind, type DeviceOut, type SentShareOut } from "../api";
import { reportStatus } from "../devicestatus";
import { formatDateTime, t } from "../i18n";
import { navigate } from "../router";
import { need } from "../session";
import { announce } from "../status";
import { AlertDialog, FormError, ScreenTitle, Submit } from "../ui";

const KINDS: BreachKind[] = ["lost_device", "stolen_device", "misdirected_share", "shown_by_accident", "other"];
const MAX_DESCRIPTION = 2000;

let chosenShare: SentShareOut | null = null;

/** Report this share as sent to the wrong person (from the photo's share status). */
export function reportShare(share: SentShareOut): void {
  chosenShare = share;
  navigate({ name: "report" });
}

function errorText(err: unknown): string {
  return err instanceof ApiError || err instanceof Error ? err.message : String(err);
}

/** A local date and time from <input type="datetime-local">, as UTC with a "Z". */
function utcOf(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : `${d.toISOString().slice(0, 19)}Z`;
}

function shareText(s: SentShareOut): string {
  const who = s.recipient_institution ? `${s.recipient_name}, ${s.recipient_institution}` : s.recipient_name;
  return t("reportShareRow", { who, date: formatDateTime(new Date(s.sent_at)) });
}

function Radio({ group, value, checked, label, onPick }: { group: string; value: string; checked: boolean; label: string; onPick: () => void }) {
  return (
    <div class="radio">
      <input type="radio" id={`${group}-${value}`} name={group} value={value} checked={checked} onChange={onPick} />
      <label for={`${group}-${value}`}>{label}</label>
    </div>
  );
}

function ConfirmThisPhone({ busy, onYes, onNo }: { busy: boolean; onYes: () => void; onNo: () => void }) {
  return (
    <AlertDialog title={t("reportThisPhoneTitle")} body={t("reportThisPhoneBody")} onEscape={onNo} testId="report-this-phone">
      <button data-safe type="button" class="primary" onClick={onNo}>
        {t("reportThisPhoneNo")}
      </button>
      <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={onYes}>
        {busy ? t("reportSending") : t("reportThisPhoneYes")}
      </button>
    </AlertDialog>
  );
}

export function ReportScreen() {
  const id = useId();
  const self = need().secrets.deviceId;
  const [kind, setKind] = useState<BreachKind | null>(null);
  const [devices, setDevices] = useState<DeviceOut[] | null>(null);
  const [deviceId, setDeviceId] = useState<string | null>(null);
  const [share] = useState<SentShareOut | null>(() => chosenShare);
  const [when, setWhen] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    if (share) setKind("misdirected_share");
    chosenShare = null;
    api
      .devices()
      .then((list) => setDevices(list.filter((d) => d.status === "active")))
      .catch((err: unknown) => setError(errorText(err)));
  }, []);

  const aboutDevice = kind === "lost_device" || kind === "stolen_device";

  function problem(): string | null {
    if (kind === null) return t("reportKindMissing");
    if (aboutDevice && deviceId === null) return t("reportDeviceMissing");
    if (kind === "misdirected_share" && share === null) return t("reportShareMissing");
    if (kind === "other" && !description.trim()) return t("reportDescriptionMissing");
    if (description.length > MAX_DESCRIPTION) return t("reportDescriptionTooLong", { max: MAX_DESCRIPTION });
    return null;
  }

  async function send() {
    if (kind === null) return;
    setBusy(true);
    setError(null);
    announce(t("reportSending"));
    try {
      await api.reportBreach({
        kind,
        device_id: aboutDevice ? deviceId : null,
        share_id: kind === "misdirected_share" ? (share?.id ?? null) : null,
        occurred_at: utcOf(when),
        description: description.trim(),
      });
      setConfirming(false);
      if (aboutDevice && deviceId === self) {
        // This phone is revoked now; its status report brings the wipe order at once.
        await reportStatus(true);
        return;
      }
      const name = devices?.find((d) => d.id === deviceId)?.name ?? "";
      const said =
        aboutDevice ? t("reportDoneDevice", { name }) : kind === "misdirected_share" ? t("reportDoneShare") : t("reportDone");
      announce(said);
      setDone(said);
    } catch (err) {
      setConfirming(false);
      setError(errorText(err));
      announce("");
    } finally {
      setBusy(false);
    }
  }

  function submit(e: Event) {
    e.preventDefault();
    const bad = problem();
    setError(bad);
    if (bad) return;
    if (aboutDevice && deviceId === self) setConfirming(true);
    else void send();
  }

  if (done !== null) {
    return (
      <main id="main" class="screen">
        <ScreenTitle>{t("reportDoneTitle")}</ScreenTitle>
        <p data-testid="report-done">{done}</p>
        <p>{t("reportDoneNext")}</p>
      </main>
    );
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("reportTitle")}</ScreenTitle>
      <p>{t("reportIntro")}</p>
      <form onSubmit={submit} noValidate>
        <fieldset class="choices">
          <legend>{t("reportKindLegend")}</legend>
          {KINDS.map((k) => (
            <Radio key={k} group={`${id}-kind`} value={k} checked={kind === k} label={t(`reportKind_${k}`)} onPick={() => setKind(k)} />
          ))}
        </fieldset>
        {aboutDevice ? (
          <fieldset class="choices" data-testid="report-devices">
            <legend>{t("reportDeviceLegend")}</legend>
            {devices === null ? <p class="muted">{t("busy")}</p> : null}
            {(devices ?? []).map((d) => (
              <Radio
                key={d.id}
                group={`${id}-device`}
                value={d.id}
                checked={deviceId === d.id}
                label={d.id === self ? t("reportThisDevice", { name: d.name }) : d.name}
                onPick={() => setDeviceId(d.id)}
              />
            ))}
            <p class="hint">{t("reportDeviceHint")}</p>
          </fieldset>
        ) : null}
        {kind === "misdirected_share" ? (
          share ? (
            <fieldset class="choices">
              <legend>{t("reportShareLegend")}</legend>
              <Radio group={`${id}-share`} value={share.id} checked label={shareText(share)} onPick={() => undefined} />
              <p class="hint">{t("reportShareHint")}</p>
            </fieldset>
          ) : (
            <p class="hint" data-testid="report-share-how">
              {t("reportShareHow")}
            </p>
          )
        ) : null}
        <div class="field">
          <label for={`${id}-when`}>{t("reportWhenLabel")}</label>
          <p class="hint" id={`${id}-when-hint`}>
            {t("reportWhenHint")}
          </p>
          <input
            id={`${id}-when`}
            type="datetime-local"
            value={when}
            aria-describedby={`${id}-when-hint`}
            onInput={(e) => setWhen((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for={`${id}-what`}>{t("reportDescriptionLabel")}</label>
          <p class="hint" id={`${id}-what-hint`}>
            {t("reportDescriptionHint", { max: MAX_DESCRIPTION })}
          </p>
          <textarea
            id={`${id}-what`}
            rows={4}
            maxLength={MAX_DESCRIPTION}
            value={description}
            aria-describedby={`${id}-what-hint`}
            required={kind === "other"}
            onInput={(e) => setDescription((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </div>
        <FormError message={error} />
        <Submit busy={busy} label={t("reportSend")} busyLabel={t("reportSending")} />
      </form>
      {confirming ? <ConfirmThisPhone busy={busy} onYes={() => void send()} onNo={() => setConfirming(false)} /> : null}
    </main>
  );
}
