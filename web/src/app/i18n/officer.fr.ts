// Textes français des écrans du bureau de la protection de la vie privée (enjeu 10 §4).
// Le type OfficerMessages exige chaque clé.
import type { OfficerMessages } from "./officer.en";

export const officerFr: OfficerMessages = {
  navOfficer: "Vie privée",
  officerTitle: "Bureau de la protection de la vie privée",
};
