// Sharing a photo (TRN-4): the colleague is looked up by e-mail and shown with their role,
// institution and each device's name and fingerprint before the user confirms; an optional
// message is checked for the patient's identifiers first (TRN-3); the photo is re-sealed on
// this device for the colleague's devices and the records key, with the patient's details
// sealed to them too (the server never sees which patient in clear); then each share's
// status: sent, delivered, acknowledged.
import { useEffect, useState } from "preact/hooks";
import { sealShare, sealText } from "../../lib/capture";
import { findIdentifiers, patientIdentifiers, sliceCodePoints, type Finding } from "../../lib/identifiers";
import { TEXT_CONFIRMATIONS, type TextConfirmation } from "../../lib/protocol";
import { ApiError, api, type RecipientOut, type SentShareOut } from "../api";
import { formatDateTime, label, t } from "../i18n";
import { thumbnail, useObjectUrls } from "../see/images";
import { openOwn, type Opened } from "../see/open";
import { fullPatient } from "../see/patient";
import { seeHref } from "../see/routes";
import { sealPatient } from "../see/seal";
import { need } from "../session";
import { announce } from "../status";
import { Field, FormError, ScreenTitle, Submit } from "../ui";
import { reportShare } from "./Report";
import { photoDate } from "./Timeline";

const PURPOSES = ["clinical_care", "education", "research", "publication"] as const;

export function ShareStatus({ mediaId, refresh }: { mediaId: string; refresh: number }) {
  const [list, setList] = useState<SentShareOut[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    api
      .sharesOf(mediaId)
      .then(setList)
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [mediaId, refresh, tick]);
  return (
    <section aria-labelledby="shares-title">
      <h2 id="shares-title">{t("sharesTitle")}</h2>
      <FormError message={error} />
      {list && !list.length ? <p>{t("sharesNone")}</p> : null}
      {list && list.length ? (
        <ul class="results" data-testid="share-status">
          {list.map((s) => (
            <li key={s.id} class="item">
              <span>
                {t("shareRow", {
                  who: s.recipient_institution ? `${s.recipient_name}, ${s.recipient_institution}` : s.recipient_name,
                  purpose: label("purpose_", s.purpose),
                  status: label("status_", s.status),
                })}
              </span>
              <span class="muted">{t("sentAt", { date: formatDateTime(new Date(s.sent_at)) })}</span>
              {s.delivered_at ? (
                <span class="muted">{t("deliveredAt", { date: formatDateTime(new Date(s.delivered_at)) })}</span>
              ) : null}
              {s.acknowledged_at ? (
                <span class="muted">{t("acknowledgedAt", { date: formatDateTime(new Date(s.acknowledged_at)) })}</span>
              ) : null}
              {s.recalled_at ? null : (
                <button type="button" class="link" onClick={() => reportShare(s)}>
                  {t("reportWrongPerson")}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <button type="button" class="secondary" onClick={() => setTick((n) => n + 1)}>
        {t("refresh")}
      </button>
    </section>
  );
}

export function Share({ patientId, mediaId }: { patientId: string; mediaId: string }) {
  const [photo, setPhoto] = useState<{ thumb: string; opened: Opened } | null>(null);
  const [email, setEmail] = useState("");
  const [recipient, setRecipient] = useState<RecipientOut | null>(null);
  const [purpose, setPurpose] = useState<string>("clinical_care");
  const [message, setMessage] = useState("");
  const [findings, setFindings] = useState<Finding[]>([]);
  const [reason, setReason] = useState<TextConfirmation | null>(null);
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState(0);
  const makeUrl = useObjectUrls();

  useEffect(() => {
    let alive = true;
    openOwn(mediaId)
      .then(async (opened) => {
        const thumb = makeUrl(await thumbnail(opened.plain, opened.contentType, 240));
        if (alive) setPhoto({ thumb, opened });
      })
      .catch((err: unknown) => {
        if (alive) setError(err instanceof ApiError ? err.message : t("notVerified"));
      });
    return () => {
      alive = false;
    };
  }, [mediaId]);

  async function lookUp(e: Event) {
    e.preventDefault();
    if (!email.trim()) return;
    setBusy(true);
    setError(null);
    setRecipient(null);
    setChecked(false);
    try {
      const r = await api.directory(email.trim());
      setRecipient(r);
      announce(r.display_name);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  async function send(e: Event) {
    e.preventDefault();
    if (!recipient || !photo) return;
    if (!checked) {
      setError(t("confirmMissing"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const patient = await fullPatient(patientId);
      const text = message.trim();
      // The message is checked on this phone; each warning is resolved by editing or by a
      // reason the server records with the share (TRN-3).
      const found = text ? findIdentifiers(text, patientIdentifiers(patient)) : [];
      setFindings(found);
      if (found.length && reason === null) {
        setError(t("reasonMissing"));
        return;
      }
      const held = need();
      const me = await api.me();
      const recipients = [...recipient.devices.map((d) => d.age_recipient), me.records_recipient];
      const fields: Record<string, unknown> = {
        ...(text
          ? await sealText(
              "message_sealed",
              text,
              recipients,
              found.length ? { kinds: found.map((f) => f.kind), confirmed: reason ?? "" } : undefined,
            )
          : {}),
        ...(await sealPatient(patient, recipients)),
      };
      const sealed = await sealShare(photo.opened.plain, {
        contentType: photo.opened.contentType,
        deviceId: held.secrets.deviceId,
        signingSeed: held.signingSeed,
        recipients,
        recipientUserId: recipient.id,
        purpose,
        text: fields,
      });
      await api.sendShare(mediaId, sealed.manifestHeader, sealed.signature, sealed.ciphertext);
      announce(t("shareSent"));
      setSent((n) => n + 1);
      setMessage("");
      setFindings([]);
      setReason(null);
      setChecked(false);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("shareTitle")}</ScreenTitle>
      <p>{t("shareIntro")}</p>
      {photo ? (
        <figure class="share-photo">
          <img class="thumb" src={photo.thumb} alt={t("photoTaken", { date: photoDate(photo.opened.meta) })} />
        </figure>
      ) : null}
      <form onSubmit={lookUp} noValidate>
        <Field label={t("recipientEmail")} value={email} onValue={setEmail} autocomplete="off" spellcheck={false} required />
        <button type="submit" class="secondary" disabled={busy}>
          {t("lookUp")}
        </button>
      </form>
      {recipient ? (
        <form onSubmit={send} noValidate>
          <section class="card" aria-labelledby="recipient-title" data-testid="recipient">
            <h2 id="recipient-title">{t("recipientTitle")}</h2>
            <dl>
              <dt>{t("recipientName")}</dt>
              <dd>{recipient.display_name}</dd>
              <dt>{t("recipientRole")}</dt>
              <dd>{label("role_", recipient.role)}</dd>
              <dt>{t("recipientInstitution")}</dt>
              <dd>{recipient.institution || t("noInstitution")}</dd>
            </dl>
            <h3>{t("recipientDevices")}</h3>
            {recipient.devices.length ? (
              <ul class="devices">
                {recipient.devices.map((d) => (
                  <li key={d.id}>
                    <strong>{d.name}</strong> <span>{t("fingerprint")}</span>{" "}
                    <span class="mono">{d.fingerprint}</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="error-text">{t("recipientNoDevice")}</p>
            )}
            <p class="hint">{t("fingerprintHint")}</p>
          </section>
          <div class="field">
            <label for="share-purpose">{t("purposeLabel")}</label>
            <select id="share-purpose" value={purpose} onChange={(e) => setPurpose((e.currentTarget as HTMLSelectElement).value)}>
              {PURPOSES.map((p) => (
                <option key={p} value={p}>
                  {t(`purpose_${p}`)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="share-message">{t("messageLabel")}</label>
            <p class="hint" id="share-message-hint">
              {t("messageHint")}
            </p>
            <textarea
              id="share-message"
              rows={3}
              value={message}
              aria-describedby="share-message-hint"
              onInput={(e) => {
                setMessage((e.currentTarget as HTMLTextAreaElement).value);
                setFindings([]);
                setReason(null);
              }}
            />
          </div>
          {findings.length ? (
            <div class="warnings" data-testid="message-warnings">
              <h2>{t("messageWarningsTitle")}</h2>
              <ul>
                {findings.map((f, i) => (
                  <li key={i}>
                    {t("messageWarning", {
                      kind: label("kind_", f.kind),
                      text: sliceCodePoints(message.trim(), f.start, f.end),
                    })}
                  </li>
                ))}
              </ul>
              <p>{t("messageEditHint")}</p>
              <fieldset class="choices">
                <legend>{t("keepLegend")}</legend>
                {TEXT_CONFIRMATIONS.map((c) => (
                  <div class="radio" key={c}>
                    <input type="radio" id={`keep-${c}`} name="keep" checked={reason === c} onChange={() => setReason(c)} />
                    <label for={`keep-${c}`}>{label("confirm_", c)}</label>
                  </div>
                ))}
              </fieldset>
            </div>
          ) : null}
          <div class="check">
            <input
              type="checkbox"
              id="share-checked"
              checked={checked}
              onChange={(e) => setChecked((e.currentTarget as HTMLInputElement).checked)}
            />
            <label for="share-checked">{t("confirmRecipient")}</label>
          </div>
          <FormError message={error} />
          <Submit busy={busy} label={t("send")} busyLabel={t("sending")} />
        </form>
      ) : (
        <FormError message={error} />
      )}
      <ShareStatus mediaId={mediaId} refresh={sent} />
      <p>
        <a href={seeHref({ name: "photo", patientId, mediaId })}>{t("back")}</a>
      </p>
    </main>
  );
}
