using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Agentry.Gateway.Security;

/// Who is calling, as the credential says: the tenant every read and write is scoped to, and the
/// name recorded with their decisions and in the audit trail.
public static class Caller
{
    public const string TenantClaim = "agentry:tenant";
    public const string NameClaim = "agentry:name";
    public const string CredentialClaim = "agentry:credential";

    /// Name: who, as people know them (a key's name, a token's user name); credential: which key or
    /// token subject, so that two people of one name stay apart in the audit trail.
    public static ClaimsIdentity Identity(string scheme, string tenantId, string name, string credential, IEnumerable<string> roles) =>
        new([new Claim(TenantClaim, tenantId), new Claim(NameClaim, name), new Claim(CredentialClaim, credential), .. roles.Select(role => new Claim(ClaimTypes.Role, role))],
            scheme, NameClaim, ClaimTypes.Role);

    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(TenantClaim) ?? throw new InvalidOperationException("The request was not authenticated: every Gateway endpoint but /health requires authorization.");

    /// Who decided, as recorded with a decision.
    public static string Name(this ClaimsPrincipal user) => user.FindFirstValue(NameClaim) ?? "unknown";

    /// Who and with which credential, as the audit trail and refusals name them.
    public static string Actor(this ClaimsPrincipal user) => $"{user.Name()} ({user.FindFirstValue(CredentialClaim) ?? "no credential"})";

    /// Where the request came from, for the audit trail.
    public static string Source(this HttpContext http) =>
        http.Connection.RemoteIpAddress is { } address ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString() : "unknown";

    public static bool IsLoopback(this ConnectionInfo connection) =>
        connection.LocalIpAddress is { } local && IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local);
}
