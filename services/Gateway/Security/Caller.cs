using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Agentry.Gateway.Security;

/// Who is calling, as the credential says: the tenant every read and write is scoped to, and the
/// name recorded with their decisions and in the audit trail.
public static class Caller
{
    public const string TenantClaim = "agentry:tenant";
    public const string ActorClaim = "agentry:actor";

    public static ClaimsIdentity Identity(string scheme, string tenantId, string actor, IEnumerable<string> roles) =>
        new([new Claim(TenantClaim, tenantId), new Claim(ActorClaim, actor), .. roles.Select(role => new Claim(ClaimTypes.Role, role))], scheme, ActorClaim, ClaimTypes.Role);

    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(TenantClaim) ?? throw new InvalidOperationException("The request was not authenticated: every Gateway endpoint but /health requires authorization.");

    public static string Actor(this ClaimsPrincipal user) => user.FindFirstValue(ActorClaim) ?? "unknown";

    /// Where the request came from, for the audit trail.
    public static string Source(this HttpContext http) =>
        http.Connection.RemoteIpAddress is { } address ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString() : "unknown";

    public static bool IsLoopback(this ConnectionInfo connection) =>
        connection.LocalIpAddress is { } local && IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local);
}
