// The privacy office's screens (issue 10 §4), loaded on demand: the review queue, retention
// rules and holds, certificates of destruction, the breach register, patients' requests and
// "who saw my photos". Everything here is imported only from this module, so none of it is in
// the app's first load. The server's access policy decides every request; a clinician who
// comes here by the address gets the server's refusals, shown as errors.
import { t } from "./i18n";
import { BreachesScreen, BreachScreen } from "./Breaches";
import { OfficerPage } from "./parts";
import { QueueScreen } from "./Queue";
import { RequestsScreen } from "./Requests";
import { CertificateScreen, CertificatesScreen, HoldsScreen, RetentionScreen } from "./Retention";
import { officerHref, parseOfficer } from "./routes";
import { DisclosuresScreen, WhoSawScreen } from "./WhoSaw";

export function OfficerScreen({ path }: { path: string }) {
  const route = parseOfficer(path);
  switch (route.name) {
    case "home":
    case "queue":
      return <QueueScreen />;
    case "retention":
      return <RetentionScreen />;
    case "holds":
      return <HoldsScreen />;
    case "certificates":
      return <CertificatesScreen />;
    case "certificate":
      return <CertificateScreen key={route.ref} refText={route.ref} />;
    case "breaches":
      return <BreachesScreen />;
    case "breach":
      return <BreachScreen key={route.id} id={route.id} />;
    case "requests":
      return <RequestsScreen />;
    case "who-saw":
      return <WhoSawScreen patientId={route.patientId} />;
    case "disclosures":
      return <DisclosuresScreen key={route.consentId} consentId={route.consentId} />;
    case "unknown":
      return (
        <OfficerPage section="" title={t("officerTitle")}>
          <p>{t("offUnknownPage")}</p>
          <a href={officerHref({ name: "queue" })}>{t("offNavQueue")}</a>
        </OfficerPage>
      );
  }
}
