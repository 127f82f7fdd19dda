// The body map's regions: where on the body a photo was taken (BEY-2), as a SNOMED CT body
// structure concept with its English and French labels. Paired structures take a laterality
// (SNOMED CT qualifiers: left 7771000, right 24028007, both 51440002) rather than a
// pre-coordinated "left forearm" concept: DICOM does the same (PS3.16 CID 4029, note 8) and
// the manifest's body_site carries them apart (src/clinphoto/core/wire.py, BodySite).
//
// Where each code was checked (concept id and its display there):
//  [4031] DICOM PS3.16 CID 4031 "Common Anatomic Region" (OID 1.2.840.10008.6.1.308, version
//         20250709), as FHIR ValueSet in bvdh/dicom-terminology-in-fhir,
//         input/fsh/ValueSet-dicom-cid-4031-CommonAnatomicRegion.fsh.
//  [ANS]  Agence du Numérique en Santé, JDV Human Substance Administration Site CISIS
//         (OID 1.2.250.1.213.1.1.5.686, https://smt.esante.gouv.fr/fhir/ValueSet/
//         jdv-human-substance-administration-site-cisis): 46862004 "fesse", 77568009 "dos".
//  [BE]   eHealth Belgium, DRP Body Site (https://www.ehealth.fgov.be/standards/fhir/
//         terminology/ValueSet/be-vs-body-site): 89545001 "Face structure".
// Change a code only against such a published value set, and keep the note beside it.

export type Laterality = "7771000" | "24028007" | "51440002";
export const LEFT: Laterality = "7771000";
export const RIGHT: Laterality = "24028007";
export const BOTH: Laterality = "51440002";
export const SNOMED = "http://snomed.info/sct";

export interface Site {
  id: string;
  code: string; // SNOMED CT concept id of the body structure
  en: string;
  fr: string;
  paired: boolean; // takes a laterality
}

export const SITES: readonly Site[] = [
  { id: "head", code: "69536005", en: "Head", fr: "Tête", paired: false }, // [4031] Head
  { id: "face", code: "89545001", en: "Face", fr: "Visage", paired: false }, // [BE] Face structure
  { id: "neck", code: "45048000", en: "Neck", fr: "Cou", paired: false }, // [4031] Neck
  { id: "chest", code: "816094009", en: "Chest", fr: "Thorax", paired: false }, // [4031] Chest
  { id: "breast", code: "76752008", en: "Breast", fr: "Sein", paired: true }, // [4031] Breast
  { id: "abdomen", code: "818981001", en: "Abdomen", fr: "Abdomen", paired: false }, // [4031] Abdomen
  { id: "pelvis", code: "816092008", en: "Pelvis", fr: "Bassin", paired: false }, // [4031] Pelvis
  { id: "back", code: "77568009", en: "Back", fr: "Dos", paired: false }, // [ANS] dos
  { id: "buttock", code: "46862004", en: "Buttock", fr: "Fesse", paired: true }, // [ANS] fesse
  { id: "shoulder", code: "16982005", en: "Shoulder", fr: "Épaule", paired: true }, // [4031] Shoulder
  { id: "upper-arm", code: "40983000", en: "Upper arm", fr: "Bras", paired: true }, // [4031] Upper arm
  { id: "elbow", code: "16953009", en: "Elbow", fr: "Coude", paired: true }, // [4031] Elbow joint
  { id: "forearm", code: "14975008", en: "Forearm", fr: "Avant-bras", paired: true }, // [4031] Forearm
  { id: "wrist", code: "74670003", en: "Wrist", fr: "Poignet", paired: true }, // [4031] Wrist joint
  { id: "hand", code: "85562004", en: "Hand", fr: "Main", paired: true }, // [4031] Hand
  { id: "finger", code: "7569003", en: "Finger", fr: "Doigt", paired: true }, // [4031] Finger
  { id: "hip", code: "29836001", en: "Hip", fr: "Hanche", paired: true }, // [4031] Hip
  { id: "thigh", code: "68367000", en: "Thigh", fr: "Cuisse", paired: true }, // [4031] Thigh
  { id: "knee", code: "72696002", en: "Knee", fr: "Genou", paired: true }, // [4031] Knee
  { id: "lower-leg", code: "30021000", en: "Lower leg", fr: "Jambe", paired: true }, // [4031] Lower leg
  { id: "ankle", code: "70258002", en: "Ankle", fr: "Cheville", paired: true }, // [4031] Ankle joint
  { id: "foot", code: "56459004", en: "Foot", fr: "Pied", paired: true }, // [4031] Foot
  { id: "toe", code: "29707007", en: "Toe", fr: "Orteil", paired: true }, // [4031] Toe
];

export const SITE_BY_ID: ReadonlyMap<string, Site> = new Map(SITES.map((s) => [s.id, s]));

/** A region drawn on the figure: which site, which side of the patient, and its shape in
 * the figure's 200 x 420 viewBox (the figure faces the viewer on the front view, so the
 * patient's right is on the viewer's left; on the back view it is on the viewer's right). */
export interface Region {
  site: string;
  side?: Laterality;
  shape: { kind: "rect"; x: number; y: number; w: number; h: number } | { kind: "ellipse"; cx: number; cy: number; rx: number; ry: number };
}

type Half = { site: string; shape: Region["shape"] };

// One half of the body as drawn on the viewer's left (x < 100); mirrored for the other half.
const LIMBS: Half[] = [
  { site: "shoulder", shape: { kind: "ellipse", cx: 58, cy: 78, rx: 13, ry: 11 } },
  { site: "upper-arm", shape: { kind: "rect", x: 44, y: 90, w: 22, h: 44 } },
  { site: "elbow", shape: { kind: "ellipse", cx: 55, cy: 142, rx: 12, ry: 9 } },
  { site: "forearm", shape: { kind: "rect", x: 42, y: 152, w: 22, h: 40 } },
  { site: "wrist", shape: { kind: "rect", x: 42, y: 193, w: 22, h: 11 } },
  { site: "hand", shape: { kind: "ellipse", cx: 52, cy: 218, rx: 13, ry: 13 } },
  { site: "finger", shape: { kind: "rect", x: 42, y: 232, w: 20, h: 14 } },
  { site: "hip", shape: { kind: "rect", x: 66, y: 164, w: 14, h: 26 } },
  { site: "thigh", shape: { kind: "rect", x: 70, y: 191, w: 28, h: 68 } },
  { site: "knee", shape: { kind: "ellipse", cx: 84, cy: 270, rx: 14, ry: 11 } },
  { site: "lower-leg", shape: { kind: "rect", x: 72, y: 282, w: 24, h: 70 } },
  { site: "ankle", shape: { kind: "rect", x: 73, y: 353, w: 22, h: 11 } },
  { site: "foot", shape: { kind: "ellipse", cx: 84, cy: 376, rx: 15, ry: 10 } },
  { site: "toe", shape: { kind: "rect", x: 74, y: 387, w: 20, h: 12 } },
];

function mirror(shape: Region["shape"]): Region["shape"] {
  return shape.kind === "rect"
    ? { ...shape, x: 200 - shape.x - shape.w }
    : { ...shape, cx: 200 - shape.cx };
}

function both(halves: Half[], viewerLeft: Laterality, viewerRight: Laterality): Region[] {
  return halves.flatMap((h) => [
    { site: h.site, side: viewerLeft, shape: h.shape },
    { site: h.site, side: viewerRight, shape: mirror(h.shape) },
  ]);
}

/** The front view: the patient faces the viewer. */
export const FRONT: readonly Region[] = [
  { site: "face", shape: { kind: "ellipse", cx: 100, cy: 30, rx: 20, ry: 25 } },
  { site: "neck", shape: { kind: "rect", x: 90, y: 56, w: 20, h: 12 } },
  { site: "chest", shape: { kind: "rect", x: 72, y: 69, w: 56, h: 50 } },
  ...both([{ site: "breast", shape: { kind: "ellipse", cx: 88, cy: 100, rx: 10, ry: 9 } }], RIGHT, LEFT),
  { site: "abdomen", shape: { kind: "rect", x: 72, y: 120, w: 56, h: 43 } },
  { site: "pelvis", shape: { kind: "rect", x: 81, y: 164, w: 38, h: 26 } },
  ...both(LIMBS, RIGHT, LEFT),
];

/** The back view: the patient turns away from the viewer. */
export const BACK: readonly Region[] = [
  { site: "head", shape: { kind: "ellipse", cx: 100, cy: 30, rx: 20, ry: 25 } },
  { site: "neck", shape: { kind: "rect", x: 90, y: 56, w: 20, h: 12 } },
  { site: "back", shape: { kind: "rect", x: 72, y: 69, w: 56, h: 94 } },
  ...both([{ site: "buttock", shape: { kind: "rect", x: 81, y: 164, w: 19, h: 26 } }], LEFT, RIGHT),
  ...both(LIMBS, LEFT, RIGHT),
];
