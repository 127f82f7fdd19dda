// Textes français de « Signaler un problème » (enjeu 10 §3, BRE-1). Le type ReportMessages
// exige chaque clé.
import type { ReportMessages } from "./report.en";

export const reportFr: ReportMessages = {
  navReport: "Signaler un problème",
  reportTitle: "Signaler un problème",
  reportIntro:
    "Prévenez tout de suite le bureau de la protection de la vie privée. Un téléphone ou un ordinateur perdu ou volé est coupé dès maintenant et efface clinphoto à son prochain contact; une photo envoyée à la mauvaise personne est reprise.",
  reportKindLegend: "Que s’est-il passé ?",
  reportKind_lost_device: "J’ai perdu un de mes téléphones ou ordinateurs",
  reportKind_stolen_device: "On m’a volé un de mes téléphones ou ordinateurs",
  reportKind_misdirected_share: "Une photo a été envoyée à la mauvaise personne",
  reportKind_shown_by_accident: "Une photo a été montrée à quelqu’un par erreur",
  reportKind_other: "Autre chose",
  reportDeviceLegend: "Quel appareil ?",
  reportThisDevice: "{name} (ce téléphone)",
  reportDeviceHint: "Il est révoqué tout de suite : ses sessions prennent fin et il ne peut plus se connecter.",
  reportShareLegend: "Quel partage ?",
  reportShareRow: "À {who}, envoyé le {date}",
  reportShareHint:
    "Il est repris tout de suite : la personne ne peut plus l’ouvrir, et son téléphone en efface sa copie.",
  reportShareHow:
    "Ouvrez la photo, choisissez Partager, puis appuyez sur « Envoyé à la mauvaise personne » à côté du partage : vous revenez ici, le partage choisi.",
  reportWhenLabel: "Quand est-ce arrivé ? (si vous le savez)",
  reportWhenHint: "La date et l’heure de votre téléphone.",
  reportDescriptionLabel: "Ce qui s’est passé",
  reportDescriptionHint:
    "Où, qui a pu voir quoi, ce que vous avez fait depuis. Aucun nom ni numéro de patient : le bureau retrouve les patients. Au plus {max} caractères.",
  reportKindMissing: "Choisissez ce qui s’est passé.",
  reportDeviceMissing: "Choisissez l’appareil perdu ou volé.",
  reportShareMissing: "Choisissez d’abord le partage dans l’état des partages de la photo (voir ci-dessus).",
  reportDescriptionMissing: "Dites ce qui s’est passé.",
  reportDescriptionTooLong: "La description est trop longue : au plus {max} caractères.",
  reportSend: "Envoyer le signalement",
  reportSending: "Envoi du signalement…",
  reportThisPhoneTitle: "Signaler ce téléphone perdu ou volé ?",
  reportThisPhoneBody:
    "Cela met fin à votre session et efface clinphoto de ce téléphone maintenant, avec les photos qui attendent encore d’être envoyées. Il vous faudra un nouveau code pour l’inscrire de nouveau.",
  reportThisPhoneNo: "Garder ce téléphone",
  reportThisPhoneYes: "Signaler et effacer ce téléphone",
  reportDoneTitle: "Problème signalé",
  reportDone: "Le bureau de la protection de la vie privée a reçu votre signalement.",
  reportDoneDevice: "« {name} » est révoqué. Il efface clinphoto à son prochain contact avec le serveur.",
  reportDoneShare:
    "Le partage a été repris : la personne ne peut plus l’ouvrir, et son téléphone en efface sa copie.",
  reportDoneNext: "Le bureau vous contactera s’il a besoin de plus de détails.",
  reportWrongPerson: "Envoyé à la mauvaise personne",
  status_recalled: "repris",
  remoteWipedBody:
    "Ce téléphone a été signalé perdu ou volé : clinphoto en a effacé ses clés, les photos en attente et ses fichiers, et l’a confirmé au serveur. Demandez un nouveau code à votre administrateur pour l’inscrire de nouveau.",
};
