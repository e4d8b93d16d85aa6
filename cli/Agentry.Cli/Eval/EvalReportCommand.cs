using Agentry.Evaluation.Reports;
using Agentry.Evaluation.Results;

namespace Agentry.Cli.Eval;

/// `agentry eval report RUN [--html FILE]`: the HTML page of an eval run (platform's HtmlReport),
/// written to FILE or, without --html, to eval-report-DATASET-ID.html in the current folder, whose
/// path is printed so it can be opened or kept as a CI artifact.
public static class EvalReportCommand
{
    public static async Task<int> ReportAsync(string runName, string? htmlFile, IReadOnlyDictionary<string, string?>? settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var store = EvalCommands.Store(settings);
        var (run, problem) = runName == EvalCommands.LatestBaseline
            ? await NewestAsync(store, cancellationToken)
            : await EvalCommands.FindBaselineAsync(store, runName, dataset: null, cancellationToken);
        if (problem is not null)
        {
            await error.WriteLineAsync(problem);
            return ExitCodes.BadInput;
        }

        var history = await ReportHistory.LoadAsync(store, run!, cancellationToken);
        var path = Path.GetFullPath(htmlFile ?? $"eval-report-{FileNamePart(run!.Dataset)}-{run.Id.ToString("N")[..8]}.html");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, HtmlReport.Render(run!, history), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"The report cannot be written to {path}: {e.Message} Name another file with --html.");
            return ExitCodes.BadInput;
        }

        await output.WriteLineAsync($"Eval run {run!.Id} of {run.Dataset}: {run.CasesPassed} of {run.Cases.Count} cases passed; charted with {history.Count - 1} earlier run(s) of the dataset.");
        await output.WriteLineAsync($"Report written to {path}");
        return ExitCodes.Completed;
    }

    /// A run read from a --json file may name its dataset anything; the default file stays in this folder.
    private static string FileNamePart(string dataset) =>
        string.Concat(dataset.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c == '.' ? '-' : c));

    private static async Task<(EvalRunRecord? Run, string? Problem)> NewestAsync(IEvalResultStore store, CancellationToken cancellationToken) =>
        await store.ListAsync(dataset: null, 1, cancellationToken) is [var newest]
            ? (await store.GetAsync(newest.Id, cancellationToken), null)
            : (null, $"There are no eval runs in {store.Location} to report on. Run one with: agentry eval agents/evals/assistant.yaml");
}
