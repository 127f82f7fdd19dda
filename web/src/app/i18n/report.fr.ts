// Textes français de « Signaler un problème » (enjeu 10 §3, BRE-1). Le type ReportMessages
// exige chaque clé.
import type { ReportMessages } from "./report.en";

export const reportFr: ReportMessages = {
  navReport: "Signaler un problème",
  reportTitle: "Signaler un problème",
};
