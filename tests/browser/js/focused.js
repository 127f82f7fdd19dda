// What has keyboard focus now: its tag, its name, its place among the page's controls, and
// whether a focus indicator shows (an outline of 2 px or more, or a box shadow).
(selector) => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== "none";
  const name = el.getAttribute("aria-label") || el.labels?.[0]?.textContent || el.textContent || "";
  return {
    tag: el.tagName,
    text: name.trim().slice(0, 60),
    index: [...document.querySelectorAll(selector)].indexOf(el),
    visible: el.matches(":focus-visible") && ring,
  };
}
