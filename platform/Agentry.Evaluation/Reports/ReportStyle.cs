namespace Agentry.Evaluation.Reports;

/// The report's stylesheet, inline in the page: system fonts only, so nothing is fetched.
internal static class ReportStyle
{
    public const string Css =
        """
        :root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --unstable: #9a6700; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0969da; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 24px auto; max-width: 1200px; padding: 0 16px; }
        h1 { font-size: 22px; margin: 0 0 12px; } h2 { font-size: 17px; margin: 28px 0 8px; }
        dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 16px; }
        dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
        .tiles { display: flex; gap: 12px; flex-wrap: wrap; }
        .tile { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
        .tile .label, .tile .detail { color: var(--muted); font-size: 12px; } .tile .value { font-size: 22px; font-weight: 600; }
        .charts { display: flex; gap: 16px; flex-wrap: wrap; margin-top: 16px; }
        figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
        figcaption { font-weight: 600; margin: 0 0 4px 8px; }
        svg.chart { display: block; max-width: 100%; height: auto; }
        .grid { stroke: #eef1f4; } .axis-line { stroke: var(--muted); }
        .axis { fill: var(--muted); font-size: 11px; }
        .series { fill: none; stroke: var(--accent); stroke-width: 2; }
        .point { fill: var(--accent); } .point.current { fill: #fff; stroke: var(--accent); stroke-width: 3; }
        .bin { fill: #54aeff; }
        .note { color: var(--muted); font-size: 12px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
        th { background: #f6f8fa; font-weight: 600; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .verdict { font-weight: 700; } .pass { color: var(--pass); } .fail { color: var(--fail); } .unstable { color: var(--unstable); }
        .none { color: var(--muted); }
        .failure { color: var(--fail); font-size: 12px; }
        details pre { white-space: pre-wrap; max-height: 240px; overflow: auto; background: #f6f8fa; padding: 6px; margin: 4px 0 0; }
        tr.current td { background: #ddf4ff; }
        footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
        """;
}
