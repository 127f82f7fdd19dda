// The number of stops Tab should make on the page: every control, a radio group once.
(selector) =>
  [...document.querySelectorAll(selector)].filter(
    (el) =>
      !(
        el.type === "radio" &&
        !el.checked &&
        document.querySelector(`input[type=radio][name="${el.name}"]:checked`)
      ),
  ).length
