namespace Agentry.Gateway.Security;

/// What a caller may do (docs/security.md). A key carries roles; a bearer token names them in its
/// role or scope claims. Each endpoint asks for one.
public static class GatewayRoles
{
    /// Start runs (POST /runs) and cancel them.
    public const string Submit = "submit";

    /// Read runs, their transcripts and the calls waiting for approval.
    public const string Read = "read";

    /// Approve or deny calls, and resume or close escalated runs.
    public const string Approve = "approve";

    /// Read and delete users' long-term memories and the knowledge collections.
    public const string Manage = "manage";

    /// Create, list and revoke keys; read the audit trail.
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Submit, Read, Approve, Manage, Admin];

    /// The roles of a comma- or space-separated list, or the problem with it.
    public static (IReadOnlyList<string> Roles, string? Problem) Parse(string? text)
    {
        var roles = (text ?? "").Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(r => r.ToLowerInvariant()).Distinct().ToList();
        if (roles.Count == 0)
        {
            return (roles, $"Name at least one role: {string.Join(", ", All)}.");
        }

        var unknown = roles.Where(r => !All.Contains(r)).ToList();
        return unknown.Count > 0
            ? (roles, $"Unknown role{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(r => $"'{r}'"))}. Roles: {string.Join(", ", All)}.")
            : (roles, null);
    }
}
