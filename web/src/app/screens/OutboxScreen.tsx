// What is waiting to be sent, what failed and why: labels, dates and errors only, never
// a patient identifier (the outbox holds ciphertext and a label).
import { useEffect, useState } from "preact/hooks";
import type { OutboxItem } from "../../lib/outbox";
import { formatDateTime, hasMessage, plural, t } from "../i18n";
import { onOutboxChange, outbox, syncOutbox } from "../outbox";
import { announce } from "../status";
import { ScreenTitle } from "../ui";

function errorLabel(e: string): string {
  return hasMessage(e) ? t(e) : e;
}

function itemLabel(label: string): string {
  const key = `label_${label}`;
  return hasMessage(key) ? t(key) : label;
}

export function OutboxScreen() {
  const [items, setItems] = useState<OutboxItem[] | null>(null);
  const [busy, setBusy] = useState(false);

  async function refresh() {
    setItems(await (await outbox()).list());
  }

  useEffect(() => {
    void refresh();
    return onOutboxChange(() => void refresh());
  }, []);

  async function sendNow() {
    setBusy(true);
    announce(t("syncing"));
    try {
      const { sent, failed } = await syncOutbox();
      announce(t("syncDone", { sent, failed }));
    } finally {
      setBusy(false);
      await refresh();
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("outboxTitle")}</ScreenTitle>
      {items === null ? null : items.length === 0 ? (
        <p class="ok" data-testid="outbox-empty">
          {t("outboxEmpty")}
        </p>
      ) : (
        <>
          <p data-testid="outbox-count">{plural("outboxWaitingOne", "outboxWaiting", items.length)}</p>
          <ul class="results">
            {items.map((it) => (
              <li key={it.id} class="item">
                <span class="result-name">{itemLabel(it.label)}</span>
                <span>{t("itemTaken", { date: formatDateTime(it.createdAt) })}</span>
                <span>{t("itemAttempts", { count: it.attempts })}</span>
                {it.lastError ? <span class="error-text">{t("itemError", { error: errorLabel(it.lastError) })}</span> : null}
              </li>
            ))}
          </ul>
        </>
      )}
      <button type="button" class="primary" disabled={busy || !items?.length} aria-busy={busy} onClick={() => void sendNow()}>
        {busy ? t("syncing") : t("sendNow")}
      </button>
    </main>
  );
}
