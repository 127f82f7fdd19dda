// The screens before the app is unlocked: install to the Home Screen (iOS), enroll, unlock,
// sign in again, and the two endings (wiped after 10 wrong passcodes, revoked device).
import { useState } from "preact/hooks";
import { b64Decode, b64Encode } from "../../lib/b64";
import { generateDeviceKeys } from "../../lib/keys";
import { Vault, VaultWiped, WrongPasscode, type DeviceSecrets } from "../../lib/vault";
import { ApiError, api } from "../api";
import { plural, t } from "../i18n";
import { hold, need } from "../session";
import { announce } from "../status";
import { Field, FormError, ScreenTitle, Submit } from "../ui";

const PASSWORD_MIN = 12; // the server's rule for a new account's password (accounts/passwords.py)
const PASSWORD_MAX = 256;
const PASSCODE_MIN = 6; // the CLI device's rule too (client/profile.py check_passcode)

function message(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** iOS Safari outside an installed web app: storage would not last (see docs/webapp.md). */
export function needsInstall(): boolean {
  const ua = navigator.userAgent;
  const ios = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  const standalone =
    matchMedia("(display-mode: standalone)").matches ||
    (navigator as { standalone?: boolean }).standalone === true;
  return ios && !standalone;
}

export function InstallFirst() {
  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("installTitle")}</ScreenTitle>
      <p>{t("installWhy")}</p>
      <ol class="steps">
        <li>{t("installStep1")}</li>
        <li>{t("installStep2")}</li>
        <li>{t("installStep3")}</li>
      </ol>
    </main>
  );
}

/** The one-time code in an enrollment link (`#/enroll/CODE`, the QR code `clinphoto device
 * approve` shows), taken out of the address at once so it stays in no history entry. */
export function codeFromLink(): string {
  const m = location.hash.match(/^#\/enroll\/([A-Za-z0-9-]{1,40})$/);
  if (!m) return "";
  history.replaceState(null, "", location.pathname + location.search);
  return (m[1] ?? "").toUpperCase();
}

export function Enroll({ onDone }: { onDone: (vault: Vault) => void }) {
  const [code, setCode] = useState(codeFromLink);
  const [first, setFirst] = useState(true);
  const [password, setPassword] = useState("");
  const [password2, setPassword2] = useState("");
  const [name, setName] = useState(t("deviceNameDefault"));
  const [passcode, setPasscode] = useState("");
  const [passcode2, setPasscode2] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function problem(): string | null {
    if (!code.trim()) return t("codeMissing");
    if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) return t("passwordTooShort");
    if (first && password !== password2) return t("passwordsDiffer");
    if (!name.trim()) return t("deviceNameMissing");
    if (passcode.length < PASSCODE_MIN) return t("passcodeTooShort");
    if (passcode !== passcode2) return t("passcodesDiffer");
    return null;
  }

  async function submit(e: Event) {
    e.preventDefault();
    const bad = problem();
    setError(bad);
    if (bad) return;
    setBusy(true);
    announce(t("enrolling"));
    try {
      const keys = await generateDeviceKeys();
      const done = await api.enroll({
        code: code.trim().toUpperCase(),
        password,
        device_name: name.trim(),
        age_recipient: keys.ageRecipient,
        signing_public: keys.signingPublic,
      });
      let token = done.token;
      let vault: Vault;
      try {
        // Sign in once with the new key now: a device whose signature the server cannot
        // verify is found out here, not when its first session ends.
        token = (await api.login(done.user.email, password, done.device.id, keys.signingSeed)).token;
        const secrets: DeviceSecrets = {
          server: location.origin,
          userId: done.user.id,
          email: done.user.email,
          deviceId: done.device.id,
          ageSecret: keys.ageSecret,
          signingSeed: b64Encode(keys.signingSeed),
          token,
        };
        vault = await Vault.load();
        await vault.create(passcode, secrets);
        hold(secrets, keys.signingSeed);
      } catch (err) {
        // Enrolled, but this phone cannot keep or use its keys: revoke it with its own
        // session so nothing is left behind, and say so.
        await fetch(`/v1/devices/${done.device.id}`, {
          method: "DELETE",
          headers: { Authorization: `Bearer ${token}` },
          credentials: "omit",
        }).catch(() => undefined);
        throw new Error(`${t("enrollUndone")} (${message(err)})`);
      }
      // Ask the browser to keep this origin's storage under storage pressure.
      await navigator.storage?.persist?.().catch(() => false);
      announce(t("enrolled"));
      onDone(vault);
    } catch (err) {
      setError(message(err));
      announce("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("enrollTitle")}</ScreenTitle>
      <p>{t("enrollIntro")}</p>
      <p class="server">
        {t("serverLabel")}: <span class="mono">{location.host}</span>
      </p>
      <form onSubmit={submit} noValidate>
        <Field
          label={t("codeLabel")}
          hint={t("codeHint")}
          value={code}
          onValue={setCode}
          autocomplete="one-time-code"
          autocapitalize="characters"
          spellcheck={false}
          required
        />
        <div class="check">
          <input
            id="first-device"
            type="checkbox"
            checked={first}
            onChange={(e) => setFirst((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="first-device">{t("firstDevice")}</label>
        </div>
        <Field
          label={t("passwordLabel")}
          hint={first ? t("passwordHintNew") : t("passwordHintExisting")}
          type="password"
          value={password}
          onValue={setPassword}
          autocomplete={first ? "new-password" : "current-password"}
          required
        />
        {first ? (
          <Field
            label={t("passwordConfirmLabel")}
            type="password"
            value={password2}
            onValue={setPassword2}
            autocomplete="new-password"
            required
          />
        ) : null}
        <Field label={t("deviceNameLabel")} value={name} onValue={setName} autocomplete="off" required />
        <Field
          label={t("passcodeLabel")}
          hint={t("passcodeHint")}
          type="password"
          value={passcode}
          onValue={setPasscode}
          autocomplete="off"
          required
        />
        <Field
          label={t("passcodeConfirmLabel")}
          type="password"
          value={passcode2}
          onValue={setPasscode2}
          autocomplete="off"
          required
        />
        <FormError message={error} />
        <Submit busy={busy} label={t("enrollButton")} busyLabel={t("enrolling")} />
      </form>
    </main>
  );
}

export function Unlock({ vault, onUnlocked, onWiped }: { vault: Vault; onUnlocked: () => void; onWiped: () => void }) {
  const [passcode, setPasscode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [remaining, setRemaining] = useState<number | null>(null); // shown in today's language

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setRemaining(null);
    try {
      performance.mark("clinphoto:unlock-start"); // User Timing: the unlock (docs/benchmarks.md)
      const secrets = await vault.unlock(passcode);
      performance.measure("clinphoto:unlock", "clinphoto:unlock-start");
      setPasscode("");
      hold(secrets, b64Decode(secrets.signingSeed));
      onUnlocked();
    } catch (err) {
      setPasscode("");
      if (err instanceof VaultWiped) {
        onWiped();
        return;
      }
      if (err instanceof WrongPasscode) {
        setRemaining(err.remaining);
      } else {
        setError(message(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("unlockTitle")}</ScreenTitle>
      <form onSubmit={submit} noValidate>
        <Field
          label={t("passcodeLabel")}
          type="password"
          value={passcode}
          onValue={setPasscode}
          autocomplete="off"
          required
        />
        {error !== null || remaining !== null ? (
          <p class="error" role="alert">
            {remaining !== null ? plural("wrongPasscodeOne", "wrongPasscode", remaining) : error}
          </p>
        ) : null}
        <Submit busy={busy} label={t("unlockButton")} busyLabel={t("unlocking")} />
      </form>
    </main>
  );
}

export function SignIn({ onSignedIn }: { onSignedIn: (token: string) => Promise<void> }) {
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const held = need();

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = held.secrets;
      const done = await api.login(s.email, password, s.deviceId, held.signingSeed);
      setPassword("");
      await onSignedIn(done.token);
      announce(t("signedIn"));
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("signInTitle")}</ScreenTitle>
      <p>{t("signInBody")}</p>
      <p class="mono">{held.secrets.email}</p>
      <form onSubmit={submit} noValidate>
        <Field
          label={t("passwordLabel")}
          type="password"
          value={password}
          onValue={setPassword}
          autocomplete="current-password"
          required
        />
        <FormError message={error} />
        <Submit busy={busy} label={t("signInButton")} busyLabel={t("signingIn")} />
      </form>
    </main>
  );
}

export function Ended({ kind, onEnroll }: { kind: "wiped" | "revoked"; onEnroll: () => void }) {
  return (
    <main id="main" class="screen">
      <ScreenTitle>{kind === "wiped" ? t("wipedTitle") : t("revokedTitle")}</ScreenTitle>
      <p>{kind === "wiped" ? t("wipedBody") : t("revokedBody")}</p>
      <button type="button" class="primary" onClick={onEnroll}>
        {t("enrollAgain")}
      </button>
    </main>
  );
}
