// English strings of "Report a problem" (issue 10 §3, BRE-1): a lost or stolen phone, a photo
// sent to the wrong person, a photo shown by accident; and of the remote wipe's ending.
// report.fr.ts must give every key (tsc checks it); merged in index.ts.
export const reportEn = {
  navReport: "Report a problem",
  reportTitle: "Report a problem",
  reportIntro:
    "Tell the privacy office at once. A lost or stolen phone or computer is cut off now and erases clinphoto at its next contact; a photo sent to the wrong person is taken back.",
  reportKindLegend: "What happened?",
  reportKind_lost_device: "A phone or computer of mine was lost",
  reportKind_stolen_device: "A phone or computer of mine was stolen",
  reportKind_misdirected_share: "A photo was sent to the wrong person",
  reportKind_shown_by_accident: "A photo was shown to someone by accident",
  reportKind_other: "Something else",
  reportDeviceLegend: "Which device?",
  reportThisDevice: "{name} (this phone)",
  reportDeviceHint: "It is revoked at once: its sessions end and it can no longer sign in.",
  reportShareLegend: "Which share?",
  reportShareRow: "To {who}, sent {date}",
  reportShareHint: "It is taken back at once: the person can no longer open it, and their phone deletes its copy.",
  reportShareHow:
    "Open the photo, choose Share, and press “Sent to the wrong person” beside the share: it comes back here with the share chosen.",
  reportWhenLabel: "When did it happen? (if you know)",
  reportWhenHint: "Your phone’s date and time.",
  reportDescriptionLabel: "What happened",
  reportDescriptionHint:
    "Where, who could have seen what, what you did since. No patient names or numbers: the privacy office finds the patients. At most {max} characters.",
  reportKindMissing: "Choose what happened.",
  reportDeviceMissing: "Choose the device that was lost or stolen.",
  reportShareMissing: "Choose the share from the photo’s share status first (see above).",
  reportDescriptionMissing: "Say what happened.",
  reportDescriptionTooLong: "The description is too long: at most {max} characters.",
  reportSend: "Send the report",
  reportSending: "Sending the report…",
  reportThisPhoneTitle: "Report this phone lost or stolen?",
  reportThisPhoneBody:
    "This ends your session and erases clinphoto from this phone now, with any photos still waiting to be sent. You will need a new code to enroll it again.",
  reportThisPhoneNo: "Keep this phone",
  reportThisPhoneYes: "Report and erase this phone",
  reportDoneTitle: "Problem reported",
  reportDone: "The privacy office has your report.",
  reportDoneDevice: "“{name}” is revoked. It erases clinphoto at its next contact with the server.",
  reportDoneShare: "The share was taken back: the person can no longer open it, and their phone deletes its copy.",
  reportDoneNext: "The privacy office will contact you if they need more.",
  reportWrongPerson: "Sent to the wrong person",
  status_recalled: "taken back",
  remoteWipedBody:
    "This phone was reported lost or stolen, so clinphoto erased its keys, waiting photos and stored files from it, and told the server. Ask your administrator for a new code to enroll it again.",
} as const;

export type ReportKey = keyof typeof reportEn;
export type ReportMessages = { readonly [K in ReportKey]: string };
