// Textes français des écrans d’appareils : vos appareils, en ajouter un (son code à usage
// unique et son code QR), donner accès à un nouvel appareil à vos photos et partages
// antérieurs (décision 011), en révoquer un. Le type DevicesMessages exige chaque clé.
import type { DevicesMessages } from "./devices.en";

export const devicesFr: DevicesMessages = {
  navDevices: "Appareils",

  devTitle: "Vos appareils",
  devIntro:
    "Chaque téléphone ou ordinateur que vous utilisez a ses propres clés. Un nouvel appareil ouvre vos photos antérieures et les partages qu’on vous a envoyés dès qu’un autre de vos appareils lui en donne l’accès.",
  devThisDevice: "cet appareil",
  devEnrolled: "Inscrit le {date}",
  devName: "Nom",
  devEnrolledLabel: "Inscrit le",
  devRevokedAt: "Révoqué le {date}",
  devStatus_active: "Actif",
  devStatus_revoked: "Révoqué",
  devFingerprint: "Empreinte",
  devFingerprintIs: "Empreinte :",
  devThisFingerprintHint:
    "Quand un autre de vos appareils donne accès à celui-ci, vérifiez qu’il affiche exactement cette empreinte.",
  devAdd: "Ajouter un appareil",
  devGiveAccess: "Donner accès à {name}",
  devRevoke: "Révoquer {name}",
  devRevokeConfirmTitle: "Révoquer {name} ?",
  devRevokeConfirmBody:
    "Ses sessions prennent fin aussitôt et il efface clinphoto à son prochain contact avec le serveur. Révoquez un appareil perdu ou remplacé.",
  devRevokeYes: "Le révoquer",
  devRevokeNo: "Le garder",
  devRevoking: "Révocation…",
  devRevoked: "{name} est révoqué.",
  devLoading: "Chargement de vos appareils…",

  devAddTitle: "Ajouter un appareil",
  devAddIntro:
    "Obtenez un code à usage unique pour votre nouveau téléphone ou ordinateur. Il ne sert qu’une fois, pour votre compte seulement, et il est consigné au journal d’audit.",
  devGetCode: "Obtenir un code",
  devGettingCode: "Demande du code…",
  devCodeTitle: "Code à usage unique",
  devCodeValid: "Valide {hours} heures, jusqu’au {date}.",
  devScanHint:
    "Sur le nouveau téléphone, lisez ce code QR avec l’appareil photo, ou ouvrez {origin} et tapez le code.",
  devQrLabel: "Code QR du lien d’inscription de votre nouvel appareil",
  devCliHint: "Sur un ordinateur : clinphoto device enroll --server {origin} --code {code}",
  devAfterEnroll:
    "Une fois le nouvel appareil inscrit, revenez à Vos appareils sur ce téléphone et donnez-lui accès à vos photos antérieures.",
  devBackToList: "Retour à vos appareils",

  devAccessTitle: "Donner accès à un nouvel appareil",
  devAccessIntro:
    "Cet appareil scelle de nouveau, pour le nouvel appareil, la clé de chacune de vos photos antérieures et de chaque partage reçu. Aucune photo n’est téléchargée ni envoyée de nouveau.",
  devNewDevice: "Nouvel appareil",
  devCheckFingerprint:
    "Comparez cette empreinte avec celle qu’affiche le nouvel appareil sous Vos appareils. Si elles diffèrent, ne donnez pas l’accès : prévenez votre administrateur.",
  devFingerprintMismatch:
    "L’empreinte que donne le serveur pour cet appareil ne correspond pas à ses clés. Rien n’a été donné : prévenez votre administrateur.",
  devNotYours: "Ce n’est pas l’un de vos appareils actifs.",
  devIsThisDevice: "C’est cet appareil : donnez l’accès depuis un autre de vos appareils.",
  devConfirm: "Le nouvel appareil affiche exactement cette empreinte",
  devConfirmMissing: "Vérifiez d’abord l’empreinte.",
  devGrant: "Donner l’accès",
  devGranting: "Accès en cours…",
  devProgress: "Éléments examinés : {objects}. Accès donnés jusqu’ici : {granted}.",
  devDone: "Terminé. Accès donnés maintenant : {granted}. Déjà donnés : {existing}. Éléments examinés : {objects}.",
  devDoneNothing: "Rien à faire : le nouvel appareil ouvre déjà tout ce que celui-ci peut ouvrir.",
  devUnopenable: "Éléments scellés avant l’inscription de cet appareil, dont il ne peut donc pas donner l’accès : {count}. Donnez-le depuis un de vos appareils plus anciens, ou demandez au dépositaire des dossiers.",
  devAgain: "Relancer",
};
