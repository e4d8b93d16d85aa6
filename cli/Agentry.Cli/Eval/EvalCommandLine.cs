using System.CommandLine;

namespace Agentry.Cli.Eval;

/// The `agentry eval` command tree (System.CommandLine), kept out of Program.cs.
public static class EvalCommandLine
{
    public static Command Create(Option<string?> agentsOption, Option<bool> verboseOption, Option<string?> keyOption, Option<string?> tokenOption)
    {
        var datasetArgument = new Argument<string>("dataset") { Description = "A dataset of cases: a .yaml or .jsonl file (the shipped ones are in agents/evals/)." };
        var agentOption = new Option<string?>("--agent", "-a") { Description = "Run every case with this agent, whatever the dataset names (e.g. a changed copy of an agent)." };
        var modelOption = new Option<string?>("--model", "-m") { Description = "Every agent asks this model (NAME, or PROVIDER/NAME of a configured provider), without fallbacks. Embedded runtime only." };
        var repeatOption = new Option<int>("--repeat", "-n") { Description = "Trials per case (1 to 100). With several, each case gets a pass rate, its 95% Wilson interval and a verdict by the rule in docs/evaluation.md.", DefaultValueFactory = _ => 1 };
        var concurrencyOption = new Option<int>("--concurrency", "-c") { Description = "Runs at once (1 to 32).", DefaultValueFactory = _ => 1 };
        var baselineOption = new Option<string?>("--baseline") { Description = "Compare with this eval run (an id, 'latest' for the newest stored run of the dataset, or a file written with --json) and exit 1 on a regression: for CI." };
        var thresholdOption = new Option<double>("--threshold") { Description = "With --baseline: the drop in the share of passing cases allowed (0 to 1; 0.05 is 5 points). Any case whose verdict goes down is a regression regardless.", DefaultValueFactory = _ => 0 };
        var judgeOption = new Option<string?>("--judge") { Description = "The rubric judge's model (NAME or PROVIDER/NAME), over the dataset's judge:; default: the default provider's model." };
        var jsonOption = new Option<string?>("--json") { Description = "Also write the eval run to this file as JSON (to keep as a baseline next to the dataset)." };
        var busOption = new Option<string?>("--bus") { Description = "The RabbitMQ of a running deployment: run the cases there (its agents, models and stores) instead of in this process. Also ConnectionStrings__rabbitmq." };
        var timeoutOption = new Option<TimeSpan?>("--timeout") { Description = "Stop waiting for one run after this long (hh:mm:ss); default: the agent's deadline plus 30 s, or 10 minutes with --bus." };
        var eval = new Command("eval", "Run a dataset's cases through the real runtime, grade each run (status, answer, JSON schema, tools, budget, rubric judge) and print a table; results are stored. Exits 0 when every case passes (with --baseline: when nothing regressed), 1 otherwise, 2 on bad input. Then: `eval list`, `eval compare A B`, `eval report RUN --html FILE` (charts), `eval add-run`, `eval grades RUN` (a production run's online grades). See docs/evaluation.md.")
        {
            datasetArgument, agentOption, modelOption, repeatOption, concurrencyOption, baselineOption, thresholdOption, judgeOption, jsonOption, busOption, timeoutOption,
        };
        eval.SetAction((parse, cancellationToken) => EvalCommands.EvaluateAsync(
            new EvalOptions(parse.GetValue(datasetArgument)!, parse.GetValue(agentOption), parse.GetValue(modelOption), parse.GetValue(repeatOption), parse.GetValue(concurrencyOption),
                parse.GetValue(baselineOption), parse.GetValue(thresholdOption), parse.GetValue(judgeOption), parse.GetValue(jsonOption), parse.GetValue(busOption), parse.GetValue(timeoutOption),
                parse.GetValue(agentsOption), parse.GetValue(verboseOption), Terminal: !Console.IsErrorRedirected),
            Console.Out, Console.Error, cancellationToken));

        var baselineArgument = new Argument<string>("baseline") { Description = "The earlier eval run: an id (see `agentry eval list`) or a file written with --json." };
        var currentArgument = new Argument<string>("current") { Description = "The later eval run: an id or a file." };
        var compare = new Command("compare", "Compare two eval runs case by case: regressions (a verdict went down) and improvements. Exits 1 when the second regressed against the first.")
        {
            baselineArgument, currentArgument, thresholdOption,
        };
        compare.SetAction((parse, cancellationToken) => EvalCommands.CompareAsync(
            parse.GetValue(baselineArgument)!, parse.GetValue(currentArgument)!, parse.GetValue(thresholdOption), settings: null, Console.Out, Console.Error, cancellationToken));

        var listDatasetOption = new Option<string?>("--dataset", "-d") { Description = "Only the runs of this dataset (its file name without extension)." };
        var limitOption = new Option<int>("--limit") { Description = "How many runs, newest first.", DefaultValueFactory = _ => 20 };
        var list = new Command("list", "List the stored eval runs, newest first.") { listDatasetOption, limitOption };
        list.SetAction((parse, cancellationToken) => EvalCommands.ListAsync(parse.GetValue(listDatasetOption), parse.GetValue(limitOption), settings: null, Console.Out, cancellationToken));

        var runArgument = new Argument<string>("run-id") { Description = "The run to turn into a case (as `agentry run` printed it after Run:)." };
        var toOption = new Option<string>("--to") { Description = "The dataset file to append the case to.", Required = true };
        var idOption = new Option<string?>("--id") { Description = "The new case's id (default: run- and the first 8 digits of the run id)." };
        var gatewayOption = new Option<string?>("--gateway") { Description = "Read the run from this deployment's Gateway (with --key or --token) instead of the local store." };
        var addRun = new Command("add-run", "Turn a recorded run (failed, escalated, or corrected by a person) into a regression case of a dataset: same goal and agent, expecting it to complete; review the expectations it writes.")
        {
            runArgument, toOption, idOption, gatewayOption, keyOption, tokenOption,
        };
        addRun.SetAction((parse, cancellationToken) => EvalCommands.AddRunAsync(
            parse.GetValue(runArgument)!, parse.GetValue(toOption)!, parse.GetValue(idOption),
            parse.GetValue(gatewayOption) is { } gateway ? new GatewayTarget(gateway, parse.GetValue(keyOption) ?? parse.GetValue(tokenOption)) : null,
            parse.GetValue(agentsOption), settings: null, Console.Out, Console.Error, cancellationToken));

        var reportArgument = new Argument<string>("run") { Description = "The eval run: an id (see `agentry eval list`), 'latest' (the newest stored run), or a file written with --json." };
        var htmlOption = new Option<string?>("--html") { Description = "Write the page to this file (default: eval-report-DATASET-ID.html in the current folder; the path is printed)." };
        var report = new Command("report", "Write an eval run as a self-contained HTML page (no scripts, nothing fetched): pass rate and cost over the dataset's eval runs, each case with its verdict, grader scores, cost, tokens and latency, and the latency distribution.")
        {
            reportArgument, htmlOption,
        };
        report.SetAction((parse, cancellationToken) => EvalReportCommand.ReportAsync(
            parse.GetValue(reportArgument)!, parse.GetValue(htmlOption), settings: null, Console.Out, Console.Error, cancellationToken));

        var gradedRunArgument = new Argument<string>("run-id") { Description = "A production run (as `agentry run` or the Gateway printed its id)." };
        var gradesGatewayOption = new Option<string?>("--gateway") { Description = "Read the run from this deployment's Gateway (with --key or --token) instead of the local store." };
        var grades = new Command("grades", "Show the online grades of a run: its score and each grader's verdict and reason, as the Evaluator gave them when the agent's evaluation.online sampled the run. Exits 0 when the run has grades, 1 when it has none (not sampled, not completed, or not graded yet: it says which), 2 on bad input.")
        {
            gradedRunArgument, gradesGatewayOption, keyOption, tokenOption,
        };
        grades.SetAction((parse, cancellationToken) => EvalGradesCommand.ShowAsync(
            parse.GetValue(gradedRunArgument)!,
            parse.GetValue(gradesGatewayOption) is { } gateway ? new GatewayTarget(gateway, parse.GetValue(keyOption) ?? parse.GetValue(tokenOption)) : null,
            parse.GetValue(agentsOption), settings: null, Console.Out, Console.Error, cancellationToken));

        eval.Subcommands.Add(compare);
        eval.Subcommands.Add(list);
        eval.Subcommands.Add(addRun);
        eval.Subcommands.Add(report);
        eval.Subcommands.Add(grades);
        return eval;
    }
}
