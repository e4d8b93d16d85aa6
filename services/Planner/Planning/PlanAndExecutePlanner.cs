using System.Collections.Concurrent;
using System.Globalization;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Planner.Planning;

/// The planning call of a plan-and-execute agent: writes or revises the plan and starts its first
/// wave, runs a wave (a tool step is its call; a sub-goal is one model call offered the tools), or
/// writes the final answer. Each saga step is one wave; see docs/decisions/0012.
public sealed class PlanAndExecutePlanner(ModelGateway models, AgentToolPlugins plugins, ModelPrices prices)
{
    /// Corrections asked for after an invalid plan, before the step fails.
    public const int MaxPlanCorrections = 2;

    public async Task<Proposal> ProposeAsync(AgentDefinition agent, ContextLoaded context, PlanRequest request, CancellationToken cancellationToken)
    {
        var calls = new Calls(models, agent);
        var proposal = await ProposeAsync(agent, context, request, calls, cancellationToken);
        return proposal with { Model = calls.Model, CacheHit = calls.AllCacheHits, Cost = prices.CostOf(calls.Answers) };
    }

    /// Every model call of one proposal, for the step's record: the model that answered last, and
    /// whether all of them came from the cache.
    private sealed class Calls(ModelGateway models, AgentDefinition agent)
    {
        private readonly ConcurrentQueue<ModelAnswer> _answers = new();

        public IEnumerable<ModelAnswer> Answers => _answers;

        public string? Model { get; private set; }

        public bool AllCacheHits => !_answers.IsEmpty && _answers.All(a => a.CacheHit);

        public async Task<ModelReply> AskAsync(ChatHistory history, PromptExecutionSettings settings, Kernel? kernel, CancellationToken cancellationToken) =>
            (await AnswerAsync(history, settings, kernel, cancellationToken)).Reply;

        public async Task<ModelAnswer> AnswerAsync(ChatHistory history, PromptExecutionSettings settings, Kernel? kernel, CancellationToken cancellationToken)
        {
            var answer = await models.AskAsync(agent.Model, history, settings, kernel, cancellationToken);
            _answers.Enqueue(answer);
            Model = answer.Model;
            return answer;
        }
    }

    private async Task<Proposal> ProposeAsync(AgentDefinition agent, ContextLoaded context, PlanRequest request, Calls model, CancellationToken cancellationToken)
    {
        var usage = TokenUsage.None;
        var plan = request.Plan;
        IReadOnlyList<int> wave;
        string thought;
        if (request.Action is PlanAction.MakePlan or PlanAction.Replan)
        {
            var revision = request.Action == PlanAction.MakePlan ? 0 : (request.Plan?.Revision ?? 0) + 1;
            var written = await WritePlanAsync(agent, context, request, revision, model, cancellationToken);
            usage += written.Usage;
            if (written.Plan is null)
            {
                return Proposal.Failed(written.Problem!, usage);
            }

            plan = written.Plan;
            wave = PlanProgress.NextWave(plan, []);
            thought = wave.Count == 0
                ? $"Plan revision {revision}: nothing left to do; writing the answer."
                : $"Plan revision {revision} of {Steps(plan.Steps.Count)}; running {Numbers(wave)}.";
        }
        else if (request.Action == PlanAction.RunSteps && plan is not null && request.Steps is { Count: > 0 } steps)
        {
            wave = steps;
            thought = $"Running plan {Numbers(wave)}.";
        }
        else if (request.Action == PlanAction.Answer && plan is not null)
        {
            wave = [];
            thought = "Every plan step is done; writing the answer.";
        }
        else
        {
            return Proposal.Failed($"The saga's plan request ({request.Action}) lacks the plan or the steps to run.", usage);
        }

        if (wave.Count == 0)
        {
            var answer = await AnswerAsync(agent, context, plan, model, cancellationToken);
            return new Proposal(thought, [], answer.Text, usage + answer.Usage, NewPlan(request, plan), null);
        }

        var calls = new List<ToolCall>();
        var thoughts = new List<string> { thought };
        var subGoals = await Task.WhenAll(wave
            .Select(number => plan.Steps.Single(s => s.Number == number))
            .Select(step => RunStepAsync(agent, context, plan, step, model, cancellationToken)));
        foreach (var (stepCalls, stepThought, stepUsage, problem) in subGoals)
        {
            if (problem is not null)
            {
                return Proposal.Failed(problem, usage + stepUsage);
            }

            calls.AddRange(stepCalls);
            usage += stepUsage;
            if (stepThought is not null)
            {
                thoughts.Add(stepThought);
            }
        }

        return new Proposal(string.Join(Environment.NewLine, thoughts), calls, null, usage, NewPlan(request, plan), null);
    }

    public sealed record Proposal(string? Thought, IReadOnlyList<ToolCall> ToolCalls, string? FinalAnswer, TokenUsage Usage, Plan? Plan, string? Error)
    {
        public string? Model { get; init; }

        public bool CacheHit { get; init; }

        /// What every model call of the proposal cost, re-asks included, in US dollars.
        public decimal Cost { get; init; }

        public static Proposal Failed(string error, TokenUsage usage) => new(null, [], null, usage, null, error);
    }

    private static OpenAIPromptExecutionSettings Settings(AgentDefinition agent) => new() { Temperature = agent.Model.Temperature ?? 0 };

    /// For the plan and the answer: the model knows the agent's tools but cannot call them.
    private (Kernel Kernel, OpenAIPromptExecutionSettings Settings) ToolsDescribed(AgentDefinition agent)
    {
        var kernel = new Kernel();
        var settings = Settings(agent);
        if (agent.Tools.Count > 0)
        {
            kernel.Plugins.Add(plugins.For(agent));
            settings.FunctionChoiceBehavior = FunctionChoiceBehavior.None();
        }

        return (kernel, settings);
    }

    private static Plan? NewPlan(PlanRequest request, Plan plan) =>
        request.Action is PlanAction.MakePlan or PlanAction.Replan ? plan : null;

    private sealed record WrittenPlan(Plan? Plan, string? Problem, TokenUsage Usage);

    /// Asks for the plan as JSON through StructuredReplies; an invalid one is shown its problems and
    /// asked for again, a bounded number of times. The agent's tools are described to the model but
    /// not callable.
    private async Task<WrittenPlan> WritePlanAsync(AgentDefinition agent, ContextLoaded context, PlanRequest request, int revision, Calls model, CancellationToken cancellationToken)
    {
        var history = AgentChat.ToChatHistory(context.Messages);
        history.AddUserMessage(request.Action == PlanAction.MakePlan ? PlanPrompts.MakePlan(agent) : PlanPrompts.Replan(agent, request));
        var (kernel, settings) = ToolsDescribed(agent);

        var plan = await StructuredReplies.AskAsync(
            (chat, token) => model.AnswerAsync(chat, settings, kernel, token),
            history, PlanFormat.Check(agent, revision), MaxPlanCorrections, ShowPlanProblems, cancellationToken);
        return plan.IsValid
            ? new WrittenPlan(plan.Value, null, plan.Usage)
            : new WrittenPlan(null, $"The model's plan was still invalid after {MaxPlanCorrections} correction(s): {plan.Problem}.", plan.Usage);
    }

    private static void ShowPlanProblems(ChatHistory history, ModelReply reply, ReplyCheck<Plan> check)
    {
        history.AddAssistantMessage(StructuredReplies.TextOf(reply));
        history.AddUserMessage(PlanPrompts.Correct(check.Problems));
    }

    private async Task<(IReadOnlyList<ToolCall> Calls, string? Thought, TokenUsage Usage, string? Problem)> RunStepAsync(
        AgentDefinition agent, ContextLoaded context, Plan plan, PlanStep step, Calls model, CancellationToken cancellationToken)
    {
        var id = $"p{plan.Revision}s{step.Number}";
        if (step.Tool is not null)
        {
            return ([new ToolCall(id, step.Tool, step.Arguments ?? default)], null, TokenUsage.None, null);
        }

        var history = AgentChat.ToChatHistory(context.Messages);
        history.AddUserMessage(PlanPrompts.SubGoal(plan, step));
        var kernel = new Kernel();
        kernel.Plugins.Add(plugins.For(agent));
        var settings = Settings(agent);
        settings.FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(autoInvoke: false);
        var reply = await model.AskAsync(history, settings, kernel, cancellationToken);
        if (reply.ToolCalls.Count == 0)
        {
            return ([], null, reply.Usage,
                $"The model made no tool call for sub-goal {step.Number} of the plan ('{step.Description}'); it replied: {reply.FinalAnswer}");
        }

        // Our own ids: the model's may repeat across sub-goals, and the ToolExecutor's ledger keys calls by id.
        var calls = reply.ToolCalls.Select((c, i) => c with { CallId = $"{id}c{(i + 1).ToString(CultureInfo.InvariantCulture)}" }).ToList();
        return (calls, reply.Thought is null ? null : $"Sub-goal {step.Number}: {reply.Thought}", reply.Usage, null);
    }

    private async Task<(string Text, TokenUsage Usage)> AnswerAsync(AgentDefinition agent, ContextLoaded context, Plan plan, Calls model, CancellationToken cancellationToken)
    {
        var history = AgentChat.ToChatHistory(context.Messages);
        history.AddUserMessage(PlanPrompts.Answer(plan));
        var (kernel, settings) = ToolsDescribed(agent);
        var reply = await model.AskAsync(history, settings, kernel, cancellationToken);
        return (StructuredReplies.TextOf(reply).Trim(), reply.Usage);
    }

    private static string Steps(int count) => count == 1 ? "1 step" : $"{count} steps";

    private static string Numbers(IReadOnlyList<int> steps) =>
        (steps.Count == 1 ? "step " : "steps ") + string.Join(", ", steps);
}
