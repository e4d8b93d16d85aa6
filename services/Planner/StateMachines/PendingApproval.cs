namespace Agentry.Planner.StateMachines;

/// A call waiting for approval; Approved is null until it is decided.
public sealed record PendingApproval(string CallId, string Tool, bool? Approved = null, string? DecidedBy = null, string? Comment = null);
