using System.Security.Claims;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// Roles: comma-separated (submit, read, approve, manage, admin). ExpiresInDays: none means the key
/// lasts until it is revoked.
public sealed record CreateKeyRequest(string? Name, string? Roles, int? ExpiresInDays = null);

/// A key as listed: never its secret or hash.
public sealed record KeyView(string Id, string TenantId, string Name, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

/// Key holds the whole key text: shown in this answer only, never again.
public sealed record CreatedKey(string Key, KeyView Details);

/// An admin's keys of their own tenant: create, list, revoke (`agentry keys` does the same on the store).
public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/keys").RequireAuthorization(GatewayRoles.Admin);

        keys.MapPost("/", async (CreateKeyRequest? request, HttpContext http, IApiKeyStore store, TimeProvider clock, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (KeyRequests.Problem(request?.Name, request?.Roles, request?.ExpiresInDays) is { } problem)
            {
                return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The key cannot be created.");
            }

            var now = clock.GetUtcNow();
            var issued = ApiKeys.Issue(http.User.Tenant(), request!.Name!.Trim(), GatewayRoles.Parse(request.Roles).Roles, http.User.Actor(), now,
                request.ExpiresInDays is { } days ? now.AddDays(days) : null);
            await store.AddAsync(issued.Key, cancellationToken);
            await bus.RecordAsync(http, "key.created", target: issued.Key.Id, detail: KeyRequests.Describe(issued.Key));
            return Results.Created($"/keys/{issued.Key.Id}", new CreatedKey(issued.Secret, View(issued.Key)));
        });

        keys.MapGet("/", async (ClaimsPrincipal caller, IApiKeyStore store, CancellationToken cancellationToken) =>
            Results.Ok((await store.ListAsync(caller.Tenant(), cancellationToken)).Select(View)));

        keys.MapDelete("/{id}", async (string id, HttpContext http, IApiKeyStore store, TimeProvider clock, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (!await store.RevokeAsync(id, http.User.Tenant(), clock.GetUtcNow(), cancellationToken))
            {
                return Results.Problem($"Tenant '{http.User.Tenant()}' has no active key {id}.", statusCode: StatusCodes.Status404NotFound, title: "Key not found.");
            }

            await bus.RecordAsync(http, "key.revoked", target: id);
            return Results.NoContent();
        });

        return app;
    }

    public static KeyView View(ApiKey key) => new(key.Id, key.TenantId, key.Name, key.Roles, key.CreatedAt, key.CreatedBy, key.ExpiresAt, key.RevokedAt);
}

/// What a new key needs, checked alike by the Gateway and `agentry keys create`.
public static class KeyRequests
{
    public static string? Problem(string? name, string? roles, int? expiresInDays) =>
        string.IsNullOrWhiteSpace(name) ? "Name the key (whose or what for it is): it is shown in lists and the audit trail."
        : name.Length > 100 ? "The key's name is over 100 characters."
        : GatewayRoles.Parse(roles).Problem is { } problem ? problem
        : expiresInDays is < 1 ? $"A key's lifetime must be at least 1 day, not {expiresInDays}."
        : null;

    /// A key as the audit trail describes its creation.
    public static string Describe(ApiKey key) =>
        $"'{key.Name}' with roles {string.Join(",", key.Roles)}" + (key.ExpiresAt is { } expires ? $", expires {expires:u}" : "");
}
