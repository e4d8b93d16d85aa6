using System.Globalization;
using Agentry.Evaluation.Comparison;
using Agentry.Evaluation.Results;
using Agentry.Evaluation.Stores;
using Agentry.Gateway.Security;
using Agentry.Gateway.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MongoDB.Driver;

namespace Agentry.Gateway.Evaluations;

/// GET /evaluations, /evaluations/{id} and /evaluations/compare: the eval runs `agentry eval` stored
/// where this Gateway keeps them (docs/evaluation.md). Eval runs are the deployment's, like the
/// agents they evaluate: any caller with the read role sees them all, whatever their tenant.
public static class EvaluationsApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    // How far back the dataset's previous run is looked for, as a report's history looks.
    private const int PreviousSearched = 500;

    private static readonly string[] ListAccepts = ["dataset", "limit"];
    private static readonly string[] CompareAccepts = ["a", "b"];

    /// The store `agentry eval` writes with the same configuration: MongoDB when `mongodb` is set, else the SQLite file.
    public static IServiceCollection AddEvalResults(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(provider => EvalResultStores.Open(configuration, provider.GetService<IMongoClient>()));
        return services;
    }

    public static IEndpointRouteBuilder MapEvaluationsApi(this IEndpointRouteBuilder app)
    {
        var evaluations = app.MapGroup("/evaluations");

        evaluations.MapGet("/", async (HttpRequest http, IEvalResultStore store, CancellationToken cancellationToken) =>
        {
            if (Unknown(http.Query, ListAccepts) is { } unknown)
            {
                return BadRequest($"'{unknown}' is not a filter of the eval runs; they take {string.Join(", ", ListAccepts)}.", "The eval runs cannot be listed.");
            }

            var limit = DefaultLimit;
            if (RunListApi.Text(http.Query, "limit") is { } limitText && (!int.TryParse(limitText, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            {
                return BadRequest($"'limit' is '{limitText}'; it is a whole number from 1 to {MaxLimit}.", "The eval runs cannot be listed.");
            }

            var runs = await store.ListAsync(RunListApi.Text(http.Query, "dataset"), limit, cancellationToken);
            return Results.Ok(new EvalRunList([.. runs.Select(EvalRunListItem.Of)]));
        }).RequireAuthorization(GatewayRoles.Read);

        evaluations.MapGet("/compare", async (HttpRequest http, IEvalResultStore store, CancellationToken cancellationToken) =>
        {
            const string title = "The eval runs cannot be compared.";
            if (Unknown(http.Query, CompareAccepts) is { } unknown)
            {
                return BadRequest($"'{unknown}' is not a parameter of a comparison; it takes a (the baseline's id) and b (the run compared with it).", title);
            }

            var (a, aProblem) = Id(RunListApi.Text(http.Query, "a"), "'a'", "the baseline's eval run id");
            var (b, bProblem) = Id(RunListApi.Text(http.Query, "b"), "'b'", "the id of the eval run compared with the baseline");
            if ((aProblem ?? bProblem) is { } problem)
            {
                return BadRequest(problem, title);
            }

            var baseline = await store.GetAsync(a, cancellationToken);
            var current = await store.GetAsync(b, cancellationToken);
            if (baseline is null || current is null)
            {
                return NotFound(baseline is null ? a : b);
            }

            return Results.Ok(EvalComparisonView.Of(EvalComparison.Of(baseline, current)));
        }).RequireAuthorization(GatewayRoles.Read);

        evaluations.MapGet("/{id}", async (string id, IEvalResultStore store, CancellationToken cancellationToken) =>
        {
            var (runId, problem) = Id(id, name: null, "a GUID, as `agentry eval` prints it");
            if (problem is not null)
            {
                return BadRequest(problem, "The eval run cannot be read.");
            }

            if (await store.GetAsync(runId, cancellationToken) is not { } run)
            {
                return NotFound(runId);
            }

            var previous = (await store.ListAsync(run.Dataset, PreviousSearched, cancellationToken))
                .FirstOrDefault(s => s.Id != run.Id && s.StartedAt <= run.StartedAt);
            return Results.Ok(EvalRunView.Of(run, previous?.Id));
        }).RequireAuthorization(GatewayRoles.Read);

        return app;
    }

    private static string? Unknown(IQueryCollection query, string[] accepted) =>
        query.Keys.FirstOrDefault(key => !accepted.Contains(key, StringComparer.OrdinalIgnoreCase));

    /// An eval run id, or what is wrong with it; name is the query parameter that gave it (none in the path).
    private static (Guid Id, string? Problem) Id(string? text, string? name, string what) =>
        text is null ? (Guid.Empty, $"{name} is missing: give {what}.")
        : Guid.TryParse(text, out var id) ? (id, null)
        : (Guid.Empty, $"{(name is null ? "" : $"{name} is ")}'{text}'{(name is null ? " is" : ",")} not an eval run id: give {what} (GET /evaluations lists them).");

    private static IResult BadRequest(string detail, string title) =>
        Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: title);

    // Where the store is (a path, a host) stays out of the answer: it is the server's business.
    private static IResult NotFound(Guid id) =>
        Results.Problem($"No eval run {id} is stored where this Gateway reads them. GET /evaluations lists the stored ones.", statusCode: StatusCodes.Status404NotFound, title: "Eval run not found.");
}
