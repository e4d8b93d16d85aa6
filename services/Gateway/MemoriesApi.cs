using Agentry.Contracts;
using Agentry.ServiceDefaults;
using Agentry.Agents;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

public sealed record ForgetResponse(int Deleted);

/// A user's long-term memory: list it, delete one item, delete all. Memory owns the items; these
/// ask it over the bus. The tenant comes from the X-Tenant-Id header (the default tenant without
/// one), and every question to Memory names it: another tenant's items are not found.
public static class MemoriesApi
{
    public const string TenantHeader = "X-Tenant-Id";

    public static IEndpointRouteBuilder MapMemoriesApi(this IEndpointRouteBuilder app)
    {
        var memories = app.MapGroup("/users/{userId}/memories");

        memories.MapGet("/", async (string userId, HttpRequest http, IRequestClient<ListMemories> memory, CancellationToken cancellationToken) =>
        {
            if (UserProblem(userId) is { } problem)
            {
                return problem;
            }

            var response = await memory.GetResponse<MemoryList>(new ListMemories(TenantOf(http), userId), cancellationToken);
            return Results.Ok(response.Message.Items);
        });

        memories.MapDelete("/{id:guid}", async (string userId, Guid id, HttpRequest http, IRequestClient<ForgetMemories> memory, CancellationToken cancellationToken) =>
        {
            if (UserProblem(userId) is { } problem)
            {
                return problem;
            }

            var response = await memory.GetResponse<MemoriesForgotten>(new ForgetMemories(TenantOf(http), userId, id), cancellationToken);
            return response.Message.Deleted > 0
                ? Results.NoContent()
                : Results.Problem($"User '{userId}' has no memory {id}.", statusCode: StatusCodes.Status404NotFound, title: "Memory not found.");
        });

        memories.MapDelete("/", async (string userId, HttpRequest http, IRequestClient<ForgetMemories> memory, CancellationToken cancellationToken) =>
        {
            if (UserProblem(userId) is { } problem)
            {
                return problem;
            }

            var response = await memory.GetResponse<MemoriesForgotten>(new ForgetMemories(TenantOf(http), userId), cancellationToken);
            return Results.Ok(new ForgetResponse(response.Message.Deleted));
        });

        return app;
    }

    /// The tenant a request acts for: its X-Tenant-Id header, else the default tenant.
    public static string TenantOf(HttpRequest request) =>
        request.Headers[TenantHeader].FirstOrDefault() is { } tenant && !string.IsNullOrWhiteSpace(tenant) ? tenant.Trim() : Extensions.DefaultTenant;

    private static IResult? UserProblem(string userId) =>
        UserIds.Problem(userId) is { } problem
            ? Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The user id cannot be used.")
            : null;

    public static void AddMemoryClients(this IBusRegistrationConfigurator bus)
    {
        bus.AddRequestClient<ListMemories>(RequestTimeout.After(s: 10));
        bus.AddRequestClient<ForgetMemories>(RequestTimeout.After(s: 10));
    }
}
