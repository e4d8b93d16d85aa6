using System.Security.Claims;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

public sealed record ForgetResponse(int Deleted);

/// A user's long-term memory: list it, delete one item, delete all. Memory owns the items; these
/// ask it over the bus, always for the caller's tenant: another tenant's items are not found.
public static class MemoriesApi
{
    public static IEndpointRouteBuilder MapMemoriesApi(this IEndpointRouteBuilder app)
    {
        var memories = app.MapGroup("/users/{userId}/memories").RequireAuthorization(GatewayRoles.Manage);

        memories.MapGet("/", async (string userId, ClaimsPrincipal caller, IRequestClient<ListMemories> memory, CancellationToken cancellationToken) =>
        {
            if (UserProblem(userId) is { } problem)
            {
                return problem;
            }

            var response = await memory.GetResponse<MemoryList>(new ListMemories(caller.Tenant(), userId), cancellationToken);
            return Results.Ok(response.Message.Items);
        });

        memories.MapDelete("/{id:guid}", async (string userId, Guid id, HttpContext http, IRequestClient<ForgetMemories> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (UserProblem(userId) is { } problem)
            {
                return problem;
            }

            var response = await memory.GetResponse<MemoriesForgotten>(new ForgetMemories(http.User.Tenant(), userId, id), cancellationToken);
            if (response.Message.Deleted == 0)
            {
                return Results.Problem($"User '{userId}' has no memory {id}.", statusCode: StatusCodes.Status404NotFound, title: "Memory not found.");
            }

            await bus.RecordAsync(http, "memory.deleted", target: id.ToString(), detail: $"user {userId}");
            return Results.NoContent();
        });

        memories.MapDelete("/", async (string userId, HttpContext http, IRequestClient<ForgetMemories> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (UserProblem(userId) is { } problem)
            {
                return problem;
            }

            var response = await memory.GetResponse<MemoriesForgotten>(new ForgetMemories(http.User.Tenant(), userId), cancellationToken);
            await bus.RecordAsync(http, "memories.deleted", target: userId, detail: $"{response.Message.Deleted} memories of user {userId}");
            return Results.Ok(new ForgetResponse(response.Message.Deleted));
        });

        return app;
    }

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
