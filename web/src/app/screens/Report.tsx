// "Report a problem" (issue 10 §3, BRE-1): being built; the screen says so rather than
// pretending to file a report.
import { t } from "../i18n";

export function ReportScreen() {
  return (
    <main id="main" class="screen">
      <h1>{t("reportTitle")}</h1>
    </main>
  );
}
