// A small element builder: text goes in as text nodes, never as HTML, so nothing a run says can
// become markup on the page.
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | boolean | number | ((event: Event) => void) | undefined>;

export function h(tag: string, attributes: Attributes = {}, ...children: (Child | Child[])[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/// Replaces target's children. The pages redraw every few seconds while something is open: a field
/// being typed in keeps the caret (the element with the same id gets the focus and selection back;
/// its text is the page's to keep, as a draft).
export function replace(target: Element, ...children: (Child | Child[])[]): void {
  const active = document.activeElement;
  const typing = active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement;
  const kept = typing && active.id && target.contains(active) ? { id: active.id, start: active.selectionStart, end: active.selectionEnd } : null;
  target.replaceChildren(...children.flat().filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map(c => (c instanceof Node ? c : String(c))));
  const again = kept ? document.getElementById(kept.id) : null;
  if (kept && again !== active && (again instanceof HTMLInputElement || again instanceof HTMLTextAreaElement) && target.contains(again)) {
    again.focus({ preventScroll: true });
    try {
      if (kept.start !== null) again.setSelectionRange(kept.start, kept.end);
    } catch {
      // An input type without a text selection (number, email): the focus is enough.
    }
  }
}

export function when(at: string | null | undefined): string {
  return at ? new Date(at).toLocaleString() : "";
}

export function dollars(cost: number | null | undefined): string {
  return cost === null || cost === undefined ? "" : `$${cost.toFixed(cost < 0.01 && cost > 0 ? 6 : 4)}`;
}

export function tokens(usage: { inputTokens: number; outputTokens: number } | null | undefined): string {
  return usage ? `${usage.inputTokens} in / ${usage.outputTokens} out` : "";
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function statusBadge(status: string): HTMLElement {
  return h("span", { class: `status status-${status.toLowerCase()}` }, status);
}

/// Where a failed request's reason is shown: an alert, so a screen reader says it at once.
export function problemBox(message: string): HTMLElement {
  return h("p", { class: "problem", role: "alert" }, message);
}

/// A card with a heading that names it, so it is a region a reader can jump to.
export function section(id: string, title: string, ...content: (Node | null)[]): HTMLElement {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

export function facts(...pairs: [string, Node | string][]): HTMLElement {
  return h("dl", { class: "facts" }, pairs.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}
