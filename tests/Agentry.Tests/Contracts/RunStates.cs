using System.Text.Json;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Planner.StateMachines;

namespace Agentry.Tests.ContractSchemas;

/// Runs as the saga holds them at moments worth keeping readable, for the recorded run-state
/// fixtures. The fields holding JSON are written as the saga writes them (JsonSerializer's defaults).
/// A field added to AgentRunState gets a value here, so that its recording shows it.
public static class RunStates
{
    private static readonly DateTimeOffset Started = new(2026, 12, 6, 9, 30, 0, TimeSpan.Zero);

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// A ReAct run at step 2: its tools were called, their results are in, the verdict is awaited.
    public static AgentRunState ReactMidStep()
    {
        var runId = Guid.Parse("0d6c5a52-4c1e-4f4e-9a59-2b7f3a1c9e01");
        var calls = new[] { new ToolCall("call_2", "http_get", Json("""{"url":"https://status.example.com/orders/A-1042","headers":{"accept":"application/json"}}""")) };
        var step = new StepPlanned(runId, "acme", "order-desk", 2, 6, "Check the carrier's status for \"A-1042\".", calls, null, new TokenUsage(812, 64), "gpt-4o-mini",
            Goal: "Where is order A-1042?", UserId: "ada@acme.test");
        var results = new ToolResult(runId, "acme", "order-desk", 2, 6,
            [new ToolOutcome("call_2", "http_get", calls[0].Arguments, """{"status":"in transit","eta":"2026-12-08","note":"Depot <Leeds> & \"hub\" 2"}""", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(182))]);
        return new AgentRunState
        {
            CorrelationId = runId,
            Version = 7,
            CurrentState = "Evaluating",
            TenantId = "acme",
            Agent = "order-desk",
            AgentHash = "3f1c0b9a2e7d4c58a6b1f0e9d8c7b6a5f4e3d2c1b0a998877665544332211000",
            GoalLimitsJson = """{"maxSteps":6,"maxCost":0.5}""",
            Goal = "Where is order A-1042?",
            InputJson = """{"order":"A-1042","customer":{"name":"Zoë","tier":"gold"}}""",
            UserId = "ada@acme.test",
            Trigger = TriggerKind.Webhook,
            Origin = new TriggerOrigin("order-status", "shop", "evt-5521", null),
            Lineage = new RunLineage(Guid.Parse("5b0e7c1a-93d2-4f61-8c0a-7e2d4b6f1a33"), LineageKind.Fork, 1,
                "3f1c0b9a2e7d4c58a6b1f0e9d8c7b6a5f4e3d2c1b0a998877665544332211000", "gpt-4o-mini", new Guidance("Check the carrier first.", "ada@acme.test")),
            HoldsTenantSlot = true,
            Step = 2,
            MaxSteps = 6,
            MaxTokens = 20000,
            StartedAt = Started,
            Deadline = Started.AddMinutes(5),
            InputTokens = 1630,
            OutputTokens = 121,
            MaxCost = 0.5m,
            TotalCost = 0.0021m,
            PlannedStepJson = JsonSerializer.Serialize(step),
            ToolResultJson = JsonSerializer.Serialize(results),
            StepAllowance = 6,
            DeadlineAllowance = TimeSpan.FromMinutes(5),
            LastVerdict = "Continue",
            LastReason = "The carrier has not been asked yet.",
        };
    }

    /// A plan-and-execute run, resumed once by a person, whose second wave waits for two approvals
    /// (one decided), with a verdict that overtook its results held.
    public static AgentRunState PlanAndExecuteAwaitingApproval()
    {
        var runId = Guid.Parse("5b0e7f9e-1d2c-4d8e-8f3a-6c4b2a190d02");
        var plan = new Plan(2,
        [
            new PlanStep(1, "Find the customer's open invoices", "sql_query", Json("""{"sql":"select id, total from invoices where customer = 'C-7' and paid = 0"}"""), []),
            new PlanStep(2, "Refund the duplicate charge", "refund_order", Json("""{"order_id":"1042","amount":"19.90"}"""), [1]),
            new PlanStep(3, "Email the customer", "send_email", null, [2]),
        ]);
        var calls = new[]
        {
            new ToolCall("call_7", "refund_order", Json("""{"order_id":"1042","amount":"19.90"}""")),
            new ToolCall("call_8", "send_email", Json("""{"to":"c7@example.com","subject":"Your refund","body":"Line one.\nLine two."}""")),
        };
        var step = new StepPlanned(runId, "acme", "billing", 4, 10, null, calls, null, new TokenUsage(2210, 180), "gpt-4o", Plan: plan, Cost: 0.0132m, Goal: "Refund C-7's duplicate charge.");
        return new AgentRunState
        {
            CorrelationId = runId,
            Version = 15,
            CurrentState = "AwaitingApproval",
            TenantId = "acme",
            Agent = "billing",
            AgentHash = "a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f",
            MoveToAgentHash = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
            MoveRequestedBy = "dave@acme.test",
            Goal = "Refund C-7's duplicate charge.",
            // An input over Payloads:InlineBytes: kept out of line, the state holds its reference only.
            InputJson = null,
            InputRef = new PayloadRef("sha256:9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab", 2_400_000, "application/json", "redis"),
            Trigger = TriggerKind.Api,
            Step = 4,
            MaxSteps = 10,
            MaxTokens = 50000,
            StartedAt = Started,
            Deadline = Started.AddHours(1),
            InputTokens = 8120,
            OutputTokens = 940,
            TotalCost = 0.0581m,
            PlannedStepJson = JsonSerializer.Serialize(step),
            ToolResultJson = null,
            Answer = null,
            PlanAndExecute = true,
            MaxReplans = 2,
            Replans = 1,
            PlanJson = JsonSerializer.Serialize(plan),
            PlanStepsDone = [1],
            PlanStepsRunning = [2, 3],
            PlanRequestJson = JsonSerializer.Serialize(new PlanRequest(PlanAction.RunSteps, plan, [2, 3])),
            PendingVerdictJson = JsonSerializer.Serialize(new GoalEvaluated(runId, "acme", 3, Verdict.Continue, "One invoice is a duplicate.", 0.8, Usage: new TokenUsage(300, 20), Cost: 0.001m)),
            Approvals =
            [
                new PendingApproval("call_7", "refund_order", true, "bob@acme.test", "Duplicate confirmed."),
                new PendingApproval("call_8", "send_email"),
            ],
            ApprovalExpiresAt = Started.AddMinutes(40),
            ApprovalOnTimeout = ApprovalTimeoutAction.Escalate,
            StepAllowance = 8,
            DeadlineAllowance = TimeSpan.FromHours(1),
            ResumedAtStep = 3,
            GuidanceJson = JsonSerializer.Serialize(new Guidance("Check the invoices before refunding.", "carol@acme.test")),
            ClosedBy = null,
            LastVerdict = "Continue",
            LastReason = "One invoice is a duplicate.",
        };
    }
}
