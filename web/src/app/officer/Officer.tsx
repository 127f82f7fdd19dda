// The privacy office's screens (issue 10 §4): being built.
import { t } from "../i18n";

export function OfficerScreen({ path }: { path: string }) {
  return (
    <main id="main" class="screen" data-path={path}>
      <h1>{t("officerTitle")}</h1>
    </main>
  );
}
