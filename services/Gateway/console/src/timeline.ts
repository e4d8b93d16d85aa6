import { ApiError, get, type RunTimeline, type TimelineSpan } from "./api";
import { h, replace } from "./dom";

/// The run's spans as bars on one time axis (GET /runs/{id}/trace). The bars sit in a table whose
/// cells also say each span's start, wait and duration in words, so the table is the accessible
/// form of the chart. By default the bookkeeping spans are left out: MassTransit's sends, a
/// receive's single try (its own receive row already shows it), outgoing HTTP calls and the
/// Gateway's temporary queues.
export class Timeline {
  readonly element = h("section", { class: "card timeline", "aria-labelledby": "timeline-title" });
  private data: RunTimeline | null = null;
  private reason: string | null = null;
  private everySpan = false;

  constructor(private readonly runId: string) {
    this.render();
  }

  /// The planning time of each step, once the spans are read.
  planning(step: number): number | null {
    return this.data?.steps.find(s => s.step === step)?.planningMs ?? null;
  }

  async load(): Promise<void> {
    const before = this.summary();
    try {
      this.data = await get<RunTimeline>(`/runs/${this.runId}/trace`);
      this.reason = null;
    } catch (error) {
      this.reason = error instanceof ApiError && error.status === 404 ? error.message : `The timeline could not be read: ${(error as Error).message}`;
    }
    // Read again every few seconds while the run runs: drawn again only when a span was added, so
    // that keyboard focus on the table stays where it is.
    if (this.summary() !== before) this.render();
  }

  private summary(): string {
    return this.data ? `${this.data.spans.length}/${this.data.durationMs}` : this.reason ?? "";
  }

  private shown(spans: TimelineSpan[]): TimelineSpan[] {
    if (this.everySpan) return spans;
    const bookkeeping = (s: TimelineSpan) =>
      s.operation === "send" || s.operation === "publish" || (s.kind === "client" && s.stage === null)
      || (s.operation === "process" && s.retryAttempt === null) || (s.operation === "receive" && s.name.startsWith("agentry-temp-"));
    return spans.filter(s => !bookkeeping(s));
  }

  private render(): void {
    const title = h("h2", { id: "timeline-title" }, "Timeline");
    if (!this.data) {
      replace(this.element, title, h("p", { class: "notice" }, this.reason ?? "Reading the run's spans…"));
      return;
    }
    const t = this.data;
    const total = Math.max(t.durationMs, 0.001);
    const spans = this.shown(t.spans);
    const toggle = h("input", { id: "timeline-every-span", type: "checkbox", checked: this.everySpan }) as HTMLInputElement;
    toggle.addEventListener("change", () => { this.everySpan = toggle.checked; this.render(); });
    const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / total) * 100)).toFixed(3)}%`;

    replace(this.element,
      title,
      h("p", { class: "meta" }, `${t.spans.length} spans over ${ms(t.durationMs)}, from ${t.source}. `,
        t.traces.filter(x => x.jaegerUrl).flatMap((x, i, all) => [h("a", { href: x.jaegerUrl!, target: "_blank", rel: "noopener" }, all.length > 1 ? `Trace ${i + 1} in Jaeger` : "Open in Jaeger"), " "])),
      h("div", { class: "timeline-options" },
        h("label", { class: "check" }, toggle, " Show every span (sends, single tries, HTTP calls, the console's own queues)"),
        h("span", { class: "legend", "aria-hidden": "true" },
          h("span", { class: "swatch wait" }), "queue wait ", h("span", { class: "swatch work" }), "work ",
          h("span", { class: "swatch retry" }), "retry ", h("span", { class: "swatch error" }), "error")),
      h("div", { class: "scroll" },
        h("table", { class: "spans" },
          h("caption", { class: "visually-hidden" }, `Spans of the run, earliest first (${spans.length} of ${t.spans.length} shown)`),
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, "Span"),
            ["Step", "Starts at", "Waited", "Took"].map(c => h("th", { scope: "col", class: "number" }, c)),
            h("th", { scope: "col", class: "bar-cell" }, h("span", { class: "visually-hidden" }, "On the time axis")))),
          h("tbody", {}, spans.map(s => {
            const retried = s.retryAttempt !== null && s.retryAttempt > 1;
            const label = `${s.name} (${s.service}), starts at ${ms(s.offsetMs)}, ${s.queueWaitMs !== null ? `waited ${ms(s.queueWaitMs)} in the queue, ` : ""}took ${ms(s.durationMs)}${s.status === "error" ? ", failed" : ""}`;
            return h("tr", { "data-span": s.spanId, class: s.status === "error" ? "span-error" : undefined },
              h("th", { scope: "row", class: "span-name" },
                h("span", {}, s.name),
                s.retryAttempt !== null ? h("span", { class: `badge${retried ? " retry" : ""}` }, retried ? `retry ${s.retryAttempt - 1}` : "first try") : null,
                s.status === "error" ? h("span", { class: "badge error" }, "error") : null,
                h("span", { class: "service" }, s.service)),
              h("td", { class: "number" }, s.step ?? ""),
              h("td", { class: "number" }, ms(s.offsetMs)),
              h("td", { class: "number" }, s.queueWaitMs !== null ? ms(s.queueWaitMs) : ""),
              h("td", { class: "number" }, ms(s.durationMs)),
              h("td", { class: "bar-cell" },
                h("div", { class: "track", role: "img", "aria-label": label, title: label },
                  s.queueWaitMs ? h("div", { class: "span-bar wait", style: `left:${pct(s.offsetMs - s.queueWaitMs)};width:${pct(s.queueWaitMs)}` }) : null,
                  h("div", { class: `span-bar work${retried ? " retry" : ""}${s.status === "error" ? " error" : ""}`, style: `left:${pct(s.offsetMs)};width:max(2px,${pct(s.durationMs)})` }))));
          })))));
  }
}

export function ms(value: number): string {
  return value < 1000 ? `${value < 10 ? value.toFixed(1) : Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}
