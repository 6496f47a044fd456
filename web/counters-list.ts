// The page's counters: a <dl> of rows, written only where a value changed (the page updates it
// every frame), shared by the single-host page and the threads page.

/** Writes `rows` ([label, value, test id?]) into the <dl> `el`, remaking it when the rows changed in number. */
export function list(el: HTMLElement, rows: [string, string, string?][]): void {
  if (el.children.length !== rows.length * 2) {
    el.innerHTML = rows.map(([k, , id]) => `<dt>${k}</dt><dd${id ? ` data-testid="${id}"` : ""}></dd>`).join("");
  }
  rows.forEach(([, v], i) => {
    const dd = el.children[i * 2 + 1] as HTMLElement;
    if (dd.textContent !== v) dd.textContent = v;
  });
}
