// Patients: find by MRN or health-card number (any clinician: the wristband), or by name
// among one's own patients; register a new one; record the consent that opens an encounter.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, type ConsentTextsOut, type PatientMatch } from "../api";
import { formatDate, hasMessage, lang, plural, t, type MessageKey } from "../i18n";
import { PROVINCES } from "../provinces";
import { href, navigate } from "../router";
import { need, type PatientView } from "../session";
import { announce } from "../status";
import { Field, FormError, ScreenTitle, Submit } from "../ui";
import { ConsentList, ConsentRights, ConsentTextView, queueSignature, SignatureField, ToFollow, type SignatureHandle } from "./ConsentParts";
import { ScanWristband } from "./ScanWristband";

type Kind = "mrn" | "hcn" | "name";

function relationLabel(r: string | null | undefined): string {
  if (!r) return t("relationNone");
  const key = `relation_${r}`;
  return hasMessage(key) ? t(key) : r;
}

function remember(p: PatientView): void {
  need().patients.set(p.id, p);
}

export function FindPatient() {
  const [kind, setKind] = useState<Kind>("mrn");
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<PatientMatch[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);
  const kinds: [Kind, MessageKey][] = [
    ["mrn", "searchMrn"],
    ["hcn", "searchHcn"],
    ["name", "searchName"],
  ];

  async function submit(e: Event | null, value = query, by = kind) {
    e?.preventDefault();
    if (!value.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const list = await api.findPatients(by, value.trim());
      for (const p of list) remember(p);
      setFound(list);
      announce(list.length ? plural("matchOne", "matches", list.length) : t("noMatch"));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("patientsTitle")}</ScreenTitle>
      {scanning ? (
        <ScanWristband
          onClose={() => {
            setScanning(false);
            // Back to typing: the search field takes focus.
            requestAnimationFrame(() => document.querySelector<HTMLInputElement>("#main form input:not([type=radio])")?.focus());
          }}
          onCode={(code) => {
            // A wristband carries the MRN or the health-card number: searched as chosen.
            const by = kind === "name" ? "mrn" : kind;
            setScanning(false);
            setKind(by);
            setQuery(code);
            void submit(null, code, by);
          }}
        />
      ) : (
        <p>
          <button type="button" class="secondary" onClick={() => setScanning(true)}>
            {t("scanButton")}
          </button>
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <fieldset class="choices">
          <legend>{t("searchBy")}</legend>
          {kinds.map(([k, label]) => (
            <div class="radio" key={k}>
              <input
                type="radio"
                id={`kind-${k}`}
                name="kind"
                value={k}
                checked={kind === k}
                onChange={() => setKind(k)}
              />
              <label for={`kind-${k}`}>{t(label)}</label>
            </div>
          ))}
        </fieldset>
        <Field
          label={t("searchLabel")}
          type={kind === "name" ? "text" : "search"}
          value={query}
          onValue={setQuery}
          autocomplete="off"
          spellcheck={false}
        />
        <FormError message={error} />
        <Submit busy={busy} label={t("searchButton")} busyLabel={t("searching")} />
      </form>
      {found !== null ? (
        found.length ? (
          <ul class="results">
            {found.map((p) => (
              <li key={p.id}>
                <a class="result" href={href({ name: "patient", patientId: p.id })}>
                  <span class="result-name">{p.name}</span>
                  <span>{t("born", { date: formatDate(p.dob) })}</span>
                  <span class="muted">{relationLabel(p.relation)}</span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p>{t("noMatch")}</p>
        )
      ) : null}
      <p>
        <a class="button secondary" href={href({ name: "new-patient" })}>
          {t("newPatient")}
        </a>
      </p>
    </main>
  );
}

export function NewPatient() {
  const [name, setName] = useState("");
  const [dob, setDob] = useState("");
  const [mrn, setMrn] = useState("");
  const [hcn, setHcn] = useState("");
  const [province, setProvince] = useState("QC");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const l = lang();

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const p = await api.createPatient({
        name: name.trim(),
        dob,
        mrn: mrn.trim(),
        hcn: hcn.trim() || null,
        province,
      });
      remember({ ...p, relation: "care_team" });
      announce(t("registered"));
      navigate({ name: "consent", patientId: p.id });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("newPatientTitle")}</ScreenTitle>
      <form onSubmit={submit} noValidate>
        <Field label={t("nameLabel")} value={name} onValue={setName} autocomplete="off" required />
        <Field label={t("dobLabel")} type="date" value={dob} onValue={setDob} required />
        <Field label={t("mrnLabel")} value={mrn} onValue={setMrn} autocomplete="off" spellcheck={false} required />
        <Field label={t("hcnLabel")} value={hcn} onValue={setHcn} autocomplete="off" spellcheck={false} />
        <div class="field">
          <label for="province">{t("provinceLabel")}</label>
          <select id="province" value={province} onChange={(e) => setProvince((e.currentTarget as HTMLSelectElement).value)}>
            {Object.entries(PROVINCES).map(([code, names]) => (
              <option key={code} value={code}>
                {names[l]}
              </option>
            ))}
          </select>
        </div>
        <FormError message={error} />
        <Submit busy={busy} label={t("register")} busyLabel={t("registering")} />
      </form>
    </main>
  );
}

/** A patient as last found or registered during this unlock, else read from the server. */
function usePatient(patientId: string): [PatientView | null, string | null] {
  const [patient, setPatient] = useState<PatientView | null>(() => need().patients.get(patientId) ?? null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (patient) return;
    api
      .patient(patientId)
      .then((p) => {
        const v = { ...p, relation: "care_team" };
        remember(v);
        setPatient(v);
      })
      .catch((err) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [patientId]);
  return [patient, error];
}

function PatientCard({ p }: { p: PatientView }) {
  return (
    <dl class="card">
      <dt>{t("nameLabel")}</dt>
      <dd>{p.name}</dd>
      <dt>{t("dobLabel")}</dt>
      <dd>{formatDate(p.dob)}</dd>
      <dt>{t("provinceLabel")}</dt>
      <dd>{PROVINCES[p.province]?.[lang()] ?? p.province}</dd>
    </dl>
  );
}

export function Patient({ patientId }: { patientId: string }) {
  const [p, error] = usePatient(patientId);
  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("patientTitle")}</ScreenTitle>
      <FormError message={error} />
      {p ? (
        <>
          <PatientCard p={p} />
          <p class="muted">{relationLabel(p.relation)}</p>
          <a class="button primary" href={href({ name: "consent", patientId })}>
            {t("recordConsent")}
          </a>
          <p>
            <a class="button secondary" href={`#/photos/${patientId}`}>
              {t("patientPhotos")}
            </a>
          </p>
          <ConsentList patientId={patientId} />
        </>
      ) : null}
    </main>
  );
}

const PURPOSES = ["clinical_care", "education", "research", "publication"] as const;
type Purpose = (typeof PURPOSES)[number];

export function Consent({ patientId }: { patientId: string }) {
  const [p, loadError] = usePatient(patientId);
  const [purposes, setPurposes] = useState<Set<Purpose>>(new Set(["clinical_care"]));
  const [identifiable, setIdentifiable] = useState(false);
  const [method, setMethod] = useState<"verbal" | "written" | "electronic_signature">("verbal");
  const signature = useRef<SignatureHandle>(null);
  const [witness, setWitness] = useState("");
  const [informed, setInformed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The consent text shown, as the server keeps it; its id is recorded with the consent (CON-2).
  const [texts, setTexts] = useState<ConsentTextsOut | null>(null);
  useEffect(() => {
    api
      .consentTexts()
      .then(setTexts)
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  }, []);
  const version = texts?.current[lang()]?.id;

  function toggle(pp: Purpose, on: boolean) {
    const next = new Set(purposes);
    if (on) next.add(pp);
    else next.delete(pp);
    setPurposes(next);
  }

  async function submit(e: Event) {
    e.preventDefault();
    const bad = !version
      ? t("consentTextMissing")
      : !purposes.size
      ? t("purposeMissing")
      : method === "verbal" && !witness.trim()
        ? t("witnessMissing")
        : method === "electronic_signature" && !signature.current?.given()
          ? t("signatureMissing")
          : !informed
            ? t("informedMissing")
            : null;
    setError(bad);
    if (bad) return;
    setBusy(true);
    try {
      const c = await api.recordConsent({
        patient_id: patientId,
        purposes: PURPOSES.filter((x) => purposes.has(x)),
        method,
        witness_name: method === "verbal" ? witness.trim() : null,
        informed_of_rights: informed,
        identifiable_allowed: identifiable,
        text_version: version,
      });
      need().contexts.set(c.encounter_id, { patientId, encounterId: c.encounter_id, consentId: c.id });
      if (method === "electronic_signature" && signature.current) await queueSignature(signature.current, c);
      announce(t("consentRecorded"));
      navigate({ name: "capture", patientId, encounterId: c.encounter_id });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("consentTitle")}</ScreenTitle>
      <FormError message={loadError} />
      {p ? <PatientCard p={p} /> : null}
      <section class="consent-text" aria-labelledby="consent-version">
        <h2 id="consent-version">{t("consentTextTitle")}</h2>
        {texts ? <ConsentTextView texts={texts} /> : <p class="muted">{t("consentTextLoading")}</p>}
        <ConsentRights />
      </section>
      <form onSubmit={submit} noValidate>
        <fieldset class="choices">
          <legend>{t("purposesLegend")}</legend>
          {PURPOSES.map((pp) => (
            <div class="check" key={pp}>
              <input
                type="checkbox"
                id={`purpose-${pp}`}
                checked={purposes.has(pp)}
                onChange={(e) => toggle(pp, (e.currentTarget as HTMLInputElement).checked)}
              />
              <label for={`purpose-${pp}`}>{t(`purpose_${pp}`)}</label>
            </div>
          ))}
        </fieldset>
        <fieldset class="choices">
          <legend>{t("identifiableLegend")}</legend>
          {[false, true].map((v) => (
            <div class="radio" key={String(v)}>
              <input
                type="radio"
                id={`identifiable-${v}`}
                name="identifiable"
                checked={identifiable === v}
                onChange={() => setIdentifiable(v)}
              />
              <label for={`identifiable-${v}`}>{v ? t("identifiableYes") : t("identifiableNo")}</label>
            </div>
          ))}
        </fieldset>
        <fieldset class="choices">
          <legend>{t("methodLegend")}</legend>
          {(["verbal", "written", "electronic_signature"] as const).map((m) => (
            <div class="radio" key={m}>
              <input type="radio" id={`method-${m}`} name="method" checked={method === m} onChange={() => setMethod(m)} />
              <label for={`method-${m}`}>{t(`method_${m}`)}</label>
            </div>
          ))}
        </fieldset>
        {method === "verbal" ? (
          <Field label={t("witnessLabel")} value={witness} onValue={setWitness} autocomplete="off" required />
        ) : null}
        {method === "electronic_signature" ? <SignatureField handle={signature} /> : null}
        <div class="check">
          <input
            type="checkbox"
            id="informed"
            checked={informed}
            onChange={(e) => setInformed((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="informed">{t("informedLabel")}</label>
        </div>
        <FormError message={error} />
        <Submit busy={busy} label={t("consentSubmit")} busyLabel={t("consentRecording")} />
      </form>
      <ToFollow patientId={patientId} />
    </main>
  );
}
