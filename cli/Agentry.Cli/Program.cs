using System.CommandLine;
using Agentry.Cli;
using Agentry.Cli.Eval;

var agentsOption = new Option<string?>("--agents")
{
    Description = "The folder of agent definitions (default: ./agents, or Agents__Path).",
    Recursive = true,
};
var verboseOption = new Option<bool>("--verbose", "-v")
{
    Description = "Show the services' logs.",
    Recursive = true,
};

var goalArgument = new Argument<string>("goal") { Description = "What the agent should achieve, in words." };
var agentOption = new Option<string>("--agent", "-a")
{
    Description = "The agent to run (see `agentry agents`).",
    DefaultValueFactory = _ => "assistant",
};
var inputOption = new Option<string?>("--input", "-i") { Description = "Structured input for the run, as a JSON value." };
var busOption = new Option<string?>("--bus")
{
    Description = "The RabbitMQ of a running deployment (amqp://user:password@host:5672/vhost): submit the goal there and follow the run, hosting nothing here. Also ConnectionStrings__rabbitmq.",
};
var timeoutOption = new Option<TimeSpan?>("--timeout") { Description = "Stop waiting for the run after this long (hh:mm:ss); default: the agent's deadline plus 30 s, or 10 minutes with --bus." };
var userOption = new Option<string?>("--user", "-u") { Description = "The user the run works for: agents with long-term memory remember facts and preferences per user (see `agentry memory`)." };
var approveOption = new Option<bool>("--approve") { Description = "Approve every call that needs approval, without asking (for scripts)." };
var denyOption = new Option<bool>("--deny") { Description = "Deny every call that needs approval, without asking; the agent is told (see --comment)." };
var runCommentOption = new Option<string?>("--comment") { Description = "The comment recorded with --approve or --deny decisions." };
var byOption = new Option<string>("--by")
{
    Description = "Who decides: recorded with each decision (default: your user name).",
    DefaultValueFactory = _ => Environment.UserName,
};
var run = new Command("run", "Run an agent on a goal with every service in this process, showing each step as it happens. A call that needs approval is put to you at the terminal (y / n COMMENT), or decided by --approve or --deny. Exits 0 when the run completed, 1 when it failed, escalated or was cancelled, 2 on bad input.")
{
    goalArgument, agentOption, inputOption, busOption, timeoutOption, userOption, approveOption, denyOption, runCommentOption, byOption,
};
run.Validators.Add(result =>
{
    if (result.GetValue(approveOption) && result.GetValue(denyOption))
    {
        result.AddError("--approve and --deny cannot both be given.");
    }
});
run.SetAction((parse, cancellationToken) => Commands.RunAsync(
    new RunOptions(parse.GetValue(goalArgument) ?? "", parse.GetValue(agentOption)!, parse.GetValue(agentsOption), parse.GetValue(inputOption), parse.GetValue(verboseOption),
        Bus: parse.GetValue(busOption), Timeout: parse.GetValue(timeoutOption), User: parse.GetValue(userOption),
        Approvals: new ApprovalChoice(
            parse.GetValue(approveOption) ? ApprovalMode.Approve : parse.GetValue(denyOption) ? ApprovalMode.Deny : ApprovalMode.Ask,
            parse.GetValue(byOption)!, parse.GetValue(runCommentOption))),
    Console.Out,
    Console.Error,
    cancellationToken));

var agents = new Command("agents", "List the agents defined in the agents folder, with their tools, limits and triggers (each schedule's next fire times, each webhook's path). Exits 2 when a definition is invalid, naming the file and line.");
agents.SetAction((parse, _) => Commands.ListAgentsAsync(parse.GetValue(agentsOption), Console.Out, Console.Error));

var urlsOption = new Option<string>("--urls")
{
    Description = "Where the HTTP API listens.",
    DefaultValueFactory = _ => "http://127.0.0.1:5080",
};
var noAuthOption = new Option<bool>("--no-auth")
{
    Description = "Answer requests without a credential, as the default tenant with every role: only on a loopback address, for one person on their own machine. Logs a warning at start.",
};
var serve = new Command("serve", "Host every service and the Gateway's HTTP API (POST /runs, GET /runs/{id}, approvals, memories, keys) in this process until stopped. Every request needs an API key (`agentry keys create`) or a bearer token (Gateway:Jwt settings) unless --no-auth is given on loopback. Exits 2 when it cannot start.")
{
    urlsOption, noAuthOption,
};
serve.SetAction((parse, cancellationToken) => Commands.ServeAsync(parse.GetValue(agentsOption), parse.GetValue(urlsOption)!, parse.GetValue(verboseOption), parse.GetValue(noAuthOption), Console.Error, cancellationToken));

var memory = MemoryCommands.Create(agentsOption, Console.Out, Console.Error);

var gatewayOption = new Option<string>("--gateway")
{
    Description = "The Gateway of a running deployment, for approvals, resume and close (default: AGENTRY_GATEWAY, or http://127.0.0.1:5080 as `agentry serve` listens).",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTRY_GATEWAY") is { Length: > 0 } gateway ? gateway : ApprovalCommands.DefaultGateway,
};
var keyOption = new Option<string?>("--key")
{
    Description = "The API key to call the Gateway with (default: AGENTRY_API_KEY). Its tenant is the one acted for.",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTRY_API_KEY") is { Length: > 0 } key ? key : null,
};
var tokenOption = new Option<string?>("--token")
{
    Description = "A bearer token (OIDC/JWT) to call the Gateway with, instead of a key (default: AGENTRY_TOKEN).",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTRY_TOKEN") is { Length: > 0 } token ? token : null,
};
GatewayTarget Gateway(ParseResult parse) => new(parse.GetValue(gatewayOption)!, parse.GetValue(keyOption) ?? parse.GetValue(tokenOption));
var approvals = new Command("approvals", "List the calls waiting for a person's approval on a running deployment, for the tenant of your key.") { gatewayOption, keyOption, tokenOption };
approvals.SetAction((parse, cancellationToken) => ApprovalCommands.ListAsync(Gateway(parse), Console.Out, Console.Error, cancellationToken));

var runIdArgument = new Argument<string>("run") { Description = "The run id, as `agentry run` prints it or `agentry approvals` lists it." };
var callIdArgument = new Argument<string>("call") { Description = "The call id, as `agentry approvals` lists it." };
var commentOption = new Option<string?>("--comment", "-m") { Description = "Why: recorded with the decision; a denial's comment is shown to the agent." };
var approve = new Command("approve", "Approve a call waiting for approval: it runs. Exits 2 when the run or call is unknown or already decided.")
{
    runIdArgument, callIdArgument, commentOption, byOption, gatewayOption, keyOption, tokenOption,
};
approve.SetAction((parse, cancellationToken) => ApprovalCommands.DecideAsync(Gateway(parse), parse.GetValue(runIdArgument)!, parse.GetValue(callIdArgument)!, approved: true,
    parse.GetValue(byOption)!, parse.GetValue(commentOption), Console.Out, Console.Error, cancellationToken));
var deny = new Command("deny", "Deny a call waiting for approval: the agent is told it was denied, by whom and why (--comment is required).")
{
    runIdArgument, callIdArgument, commentOption, byOption, gatewayOption, keyOption, tokenOption,
};
deny.SetAction((parse, cancellationToken) => ApprovalCommands.DecideAsync(Gateway(parse), parse.GetValue(runIdArgument)!, parse.GetValue(callIdArgument)!, approved: false,
    parse.GetValue(byOption)!, parse.GetValue(commentOption), Console.Out, Console.Error, cancellationToken));

var guidanceArgument = new Argument<string>("guidance") { Description = "What the agent should do now, in words." };
var resume = new Command("resume", "Resume an escalated run with guidance: the agent plans its next step with it. Exits 0 when accepted, 1 when the run is not escalated or no Gateway answers, 2 on bad input.")
{
    runIdArgument, guidanceArgument, gatewayOption, keyOption, tokenOption, byOption,
};
resume.SetAction((parse, cancellationToken) => Commands.DecideEscalationAsync(
    "resume", parse.GetValue(runIdArgument)!, parse.GetValue(guidanceArgument) ?? "", parse.GetValue(byOption), Gateway(parse), Console.Out, Console.Error, cancellationToken));
var resolutionArgument = new Argument<string>("resolution") { Description = "What was done or decided; it becomes the run's answer." };
var close = new Command("close", "Close an escalated run with a resolution: it ends Completed, the resolution as its answer. Exits as resume does.")
{
    runIdArgument, resolutionArgument, gatewayOption, keyOption, tokenOption, byOption,
};
close.SetAction((parse, cancellationToken) => Commands.DecideEscalationAsync(
    "close", parse.GetValue(runIdArgument)!, parse.GetValue(resolutionArgument) ?? "", parse.GetValue(byOption), Gateway(parse), Console.Out, Console.Error, cancellationToken));

var kbTenantOption = new Option<string>("--tenant", "-t")
{
    Description = "The tenant whose knowledge base this is.",
    DefaultValueFactory = _ => Agentry.ServiceDefaults.Extensions.DefaultTenant,
    Recursive = true,
};
var collectionArgument = new Argument<string>("collection") { Description = "The collection's name (lower-case letters, digits, '-', '_')." };
var pathsArgument = new Argument<string[]>("paths") { Description = "Files or folders (searched recursively) of .md, .markdown and .txt files.", Arity = ArgumentArity.OneOrMore };
var ingest = new Command("ingest", "Cut markdown and text files into overlapping chunks, embed them and store them in a collection (a file ingested again replaces its chunks). Exits 2 on a missing path or bad input.")
{
    collectionArgument, pathsArgument,
};
ingest.SetAction((parse, cancellationToken) => KnowledgeCommands.IngestAsync(
    parse.GetValue(collectionArgument)!, parse.GetValue(pathsArgument)!, parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var queryArgument = new Argument<string>("query") { Description = "What to look for, in words." };
var limitOption = new Option<int>("--limit", "-n") { Description = "How many passages.", DefaultValueFactory = _ => 5 };
var search = new Command("search", "Search a collection (BM25 and embeddings, fused) and print the best passages with their source and passage number.")
{
    collectionArgument, queryArgument, limitOption,
};
search.SetAction((parse, cancellationToken) => KnowledgeCommands.SearchAsync(
    parse.GetValue(collectionArgument)!, parse.GetValue(queryArgument)!, parse.GetValue(limitOption), parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var list = new Command("list", "List the tenant's knowledge collections with their chunk counts and embedder.");
list.SetAction((parse, cancellationToken) => KnowledgeCommands.ListAsync(parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var delete = new Command("delete", "Delete a collection and all its chunks.") { collectionArgument };
delete.SetAction((parse, cancellationToken) => KnowledgeCommands.DeleteAsync(parse.GetValue(collectionArgument)!, parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var kb = new Command("kb", "The knowledge base that agents search (search_knowledge, memory.knowledge): ingest, search, list, delete. Written where Memory keeps it: the embedded SQLite file, or MongoDB with ConnectionStrings__mongodb.")
{
    kbTenantOption, ingest, search, list, delete,
};

var keyTenantOption = new Option<string>("--tenant", "-t") { Description = "The tenant the key acts for: every run, memory and approval it touches is that tenant's.", Required = true };
var keyNameOption = new Option<string>("--name", "-n") { Description = "Whose key it is or what it is for: shown in lists and the audit trail.", Required = true };
var keyRolesOption = new Option<string>("--roles", "-r")
{
    Description = "Comma-separated: submit (start and cancel runs), read (read runs and approvals), approve (decide calls, resume and close escalations), manage (memories and knowledge), admin (keys, audit).",
    DefaultValueFactory = _ => "submit,read",
};
var keyExpiresOption = new Option<int?>("--expires-in-days") { Description = "The key stops working after this many days (default: never; revoke it instead)." };
var keysCreate = new Command("create", "Create an API key and print it once on stdout (details on stderr). Only a salted hash is kept. Exits 2 on bad input.")
{
    keyTenantOption, keyNameOption, keyRolesOption, keyExpiresOption,
};
keysCreate.SetAction((parse, cancellationToken) => KeyCommands.CreateAsync(parse.GetValue(keyTenantOption)!, parse.GetValue(keyNameOption)!, parse.GetValue(keyRolesOption)!,
    parse.GetValue(keyExpiresOption), Console.Out, Console.Error, cancellationToken));
var keysListTenantOption = new Option<string?>("--tenant", "-t") { Description = "Only this tenant's keys (default: every tenant's)." };
var keysList = new Command("list", "List the API keys: id, tenant, name, roles, state (never the key itself).") { keysListTenantOption };
keysList.SetAction((parse, cancellationToken) => KeyCommands.ListAsync(parse.GetValue(keysListTenantOption), Console.Out, Console.Error, cancellationToken));
var keyIdArgument = new Argument<string>("id") { Description = "The key's id, as `agentry keys list` shows it (the part after agk_ and before the next _)." };
var keysRevoke = new Command("revoke", "Revoke an API key: the Gateway refuses it from its next request. Exits 2 when there is no such active key.") { keyIdArgument };
keysRevoke.SetAction((parse, cancellationToken) => KeyCommands.RevokeAsync(parse.GetValue(keyIdArgument)!, Console.Out, Console.Error, cancellationToken));
var keys = new Command("keys", "The Gateway's API keys, written where the Gateway reads them: the embedded SQLite file, or MongoDB with ConnectionStrings__mongodb.")
{
    keysCreate, keysList, keysRevoke,
};

var auditRunOption = new Option<string?>("--run") { Description = "Only the entries of this run." };
var auditLimitOption = new Option<int>("--limit", "-n") { Description = "How many entries, newest first (1 to 1000).", DefaultValueFactory = _ => 50 };
var audit = new Command("audit", "Show the audit trail of the tenant of your key: every approval, denial, cancel, resume, close, memory deletion and key change, with who, when and from where. Needs a key with the admin role.")
{
    auditRunOption, auditLimitOption, gatewayOption, keyOption, tokenOption,
};
audit.SetAction((parse, cancellationToken) => AuditCommands.ListAsync(Gateway(parse), parse.GetValue(auditRunOption), parse.GetValue(auditLimitOption), Console.Out, Console.Error, cancellationToken));

var showRunIdArgument = new Argument<string>("run-id") { Description = "The run's id." };
var showOutputOption = new Option<string?>("--output") { Description = "Print the whole output of this call of the run (its call id), also one kept out of line." };
var show = new Command("show", "Show a run of a running deployment: what started it (an API call, a schedule and its due time, a webhook and its delivery, an event), its status, steps and answer. Exits 2 when no such run is known.")
{
    showRunIdArgument, showOutputOption, gatewayOption, keyOption, tokenOption,
};
show.SetAction((parse, cancellationToken) => RunCommands.ShowAsync(Gateway(parse), parse.GetValue(showRunIdArgument)!, Console.Out, Console.Error, cancellationToken, parse.GetValue(showOutputOption)));

var moveDefinition = new Command("move-definition", "Move a running (or escalated) run to its agent's current definition: from its next step it acts on the current instructions, tools, permissions, limits and model instead of those it started with. Needs the approve role; audited. Exits 0 when moved or already on the current definition, 2 when no such run is known, it has finished or its agent is no longer defined.")
{
    showRunIdArgument, gatewayOption, keyOption, tokenOption,
};
moveDefinition.SetAction((parse, cancellationToken) => RunCommands.MoveDefinitionAsync(Gateway(parse), parse.GetValue(showRunIdArgument)!, Console.Out, Console.Error, cancellationToken));

var forkFromStepOption = new Option<int>("--from-step") { Description = "The last step of the run to keep: the fork plans the step after it (0: from the start).", Required = true };
var lineageModelOption = new Option<string?>("--model") { Description = "The model to ask instead of the definition's: NAME on the definition's provider, or PROVIDER:NAME." };
var forkAgentVersionOption = new Option<string?>("--agent-version") { Description = "pinned (the default: the definition the run was pinned to) or current (the agent's definition now)." };
var forkGuidanceOption = new Option<string?>("--guidance") { Description = "What to tell the agent after the step, as a person's guidance (as `agentry resume` gives it)." };
var replayWaitOption = new Option<TimeSpan>("--wait") { Description = "How long to wait for the replay to end before printing what it decided so far.", DefaultValueFactory = _ => TimeSpan.FromMinutes(5) };
var fork = new Command("fork", "Start a new run from a step of a run: its context is the run's transcript up to that step, and it plans the next step, on the run's pinned definition (or --agent-version current), with --model and --guidance if given. Linked to its parent (agentry show). Needs the submit role; audited. Exits 0 when started, 2 when the run is unknown, has no recorded transcript or the step is out of range.")
{
    runIdArgument, forkFromStepOption, lineageModelOption, forkAgentVersionOption, forkGuidanceOption, gatewayOption, keyOption, tokenOption,
};
fork.SetAction((parse, cancellationToken) => LineageCommands.ForkAsync(Gateway(parse), parse.GetValue(runIdArgument)!, parse.GetValue(forkFromStepOption),
    parse.GetValue(lineageModelOption), parse.GetValue(forkAgentVersionOption), parse.GetValue(forkGuidanceOption), Console.Out, Console.Error, cancellationToken));
var replay = new Command("replay", "Decide a finished run's steps again, each from the run's recorded history and tool results, and show where the new decisions differ. No tool is run. A new run, linked to its parent. Needs the submit role; audited. Exits 0 when every step was decided the same, 1 when some differ or the replay did not complete, 2 on bad input.")
{
    runIdArgument, lineageModelOption, replayWaitOption, gatewayOption, keyOption, tokenOption,
};
replay.SetAction((parse, cancellationToken) => LineageCommands.ReplayAsync(Gateway(parse), parse.GetValue(runIdArgument)!, parse.GetValue(lineageModelOption),
    parse.GetValue(replayWaitOption), Console.Out, Console.Error, cancellationToken));
var runs = new Command("runs", "New runs from a run of a running deployment, through its Gateway: fork (go on from a step) and replay (decide its steps again).")
{
    fork, replay,
};

var eval = EvalCommandLine.Create(agentsOption, verboseOption, keyOption, tokenOption);

var scheduleAgentArgument = new Argument<string>("agent") { Description = "The agent, as `agentry schedules` lists it." };
var scheduleTriggerArgument = new Argument<string>("trigger") { Description = "The schedule trigger's name in the agent's definition." };
var schedulesList = new Command("list", "List the schedules of your tenant's agents: paused or not, the next three fire times (in the schedule's zone and UTC), the last fire and the counts of missed and skipped due times.")
{
    gatewayOption, keyOption, tokenOption,
};
schedulesList.SetAction((parse, cancellationToken) => ScheduleCommands.ListAsync(Gateway(parse), Console.Out, Console.Error, cancellationToken));
var schedulesPause = new Command("pause", "Pause a schedule: its due times are recorded as skipped, not run, until it is resumed. Needs the manage role; audited.")
{
    scheduleAgentArgument, scheduleTriggerArgument, gatewayOption, keyOption, tokenOption,
};
schedulesPause.SetAction((parse, cancellationToken) => ScheduleCommands.SetPausedAsync(Gateway(parse), parse.GetValue(scheduleAgentArgument)!, parse.GetValue(scheduleTriggerArgument)!, paused: true, Console.Out, Console.Error, cancellationToken));
var schedulesResume = new Command("resume", "Resume a paused schedule: it fires again from its next due time. Needs the manage role; audited.")
{
    scheduleAgentArgument, scheduleTriggerArgument, gatewayOption, keyOption, tokenOption,
};
schedulesResume.SetAction((parse, cancellationToken) => ScheduleCommands.SetPausedAsync(Gateway(parse), parse.GetValue(scheduleAgentArgument)!, parse.GetValue(scheduleTriggerArgument)!, paused: false, Console.Out, Console.Error, cancellationToken));
var historyLimitOption = new Option<int>("--limit", "-n") { Description = "How many entries, newest first (1 to 1000).", DefaultValueFactory = _ => 50 };
var schedulesHistory = new Command("history", "Show what became of a schedule's due times, newest first: fired (with the run id), missed (no Gateway ran), skipped (paused) or refused (the run could not start).")
{
    scheduleAgentArgument, scheduleTriggerArgument, historyLimitOption, gatewayOption, keyOption, tokenOption,
};
schedulesHistory.SetAction((parse, cancellationToken) => ScheduleCommands.HistoryAsync(Gateway(parse), parse.GetValue(scheduleAgentArgument)!, parse.GetValue(scheduleTriggerArgument)!, parse.GetValue(historyLimitOption), Console.Out, Console.Error, cancellationToken));
var schedules = new Command("schedules", "The agents' schedules on a running deployment, through its Gateway (which fires them): list (the default), pause, resume, history.")
{
    gatewayOption, keyOption, tokenOption, schedulesList, schedulesPause, schedulesResume, schedulesHistory,
};
schedules.SetAction((parse, cancellationToken) => ScheduleCommands.ListAsync(Gateway(parse), Console.Out, Console.Error, cancellationToken));

var artifactNameArgument = new Argument<string?>("name") { Description = "One artifact to save, by its name as the list shows it (report.md, results/a.csv).", Arity = ArgumentArity.ZeroOrOne };
var artifactOutOption = new Option<string?>("--out", "-o") { Description = "The folder to save to (default: the current folder). Without a name, every kept artifact is saved there." };
var artifacts = new Command("artifacts", "List a run's artifacts (the output files its agent declared in sandbox: outputs:) with their size and SHA-256, or save one (NAME) or all (--out DIR). Exits 2 when no such run or artifact is known.")
{
    showRunIdArgument, artifactNameArgument, artifactOutOption, gatewayOption, keyOption, tokenOption,
};
artifacts.SetAction((parse, cancellationToken) => ArtifactCommands.RunAsync(Gateway(parse), parse.GetValue(showRunIdArgument)!, parse.GetValue(artifactNameArgument),
    parse.GetValue(artifactOutOption), Console.Out, Console.Error, cancellationToken));

var hooksAgentOption = new Option<string?>("--agent", "-a") { Description = "Only the deliveries to this agent's webhooks." };
var hooksTriggerOption = new Option<string?>("--trigger") { Description = "Only the deliveries to this trigger." };
var hooksLimitOption = new Option<int>("--limit", "-n") { Description = "How many deliveries, newest first (1 to 1000).", DefaultValueFactory = _ => 50 };
var hooksList = new Command("list", "List the webhook deliveries of the tenant of your key, newest first: inbox id, when, webhook, delivery id, and what became of each (the run it started, or why it was filtered or refused).")
{
    hooksAgentOption, hooksTriggerOption, hooksLimitOption, gatewayOption, keyOption, tokenOption,
};
hooksList.SetAction((parse, cancellationToken) => HookCommands.ListAsync(Gateway(parse), parse.GetValue(hooksAgentOption), parse.GetValue(hooksTriggerOption), parse.GetValue(hooksLimitOption), Console.Out, Console.Error, cancellationToken));
var deliveryIdArgument = new Argument<string>("delivery") { Description = "The delivery's inbox id, the first column of `agentry hooks list`." };
var hooksReplay = new Command("replay", "Start the run of a webhook delivery that was refused, failed or filtered, with the agent's mapping as it is now (the filter is not applied). Refused for a delivery that already started a run or was never verified. Exits 2 when refused.")
{
    deliveryIdArgument, gatewayOption, keyOption, tokenOption,
};
hooksReplay.SetAction((parse, cancellationToken) => HookCommands.ReplayAsync(Gateway(parse), parse.GetValue(deliveryIdArgument)!, Console.Out, Console.Error, cancellationToken));
var hooks = new Command("hooks", "The webhook inbox of a running deployment (POST /hooks/{agent}/{trigger}): list deliveries and replay them. Needs a key with the manage or admin role.")
{
    hooksList, hooksReplay,
};

var root = new RootCommand("Agentry: a runtime for AI agents. Runs an agent through trigger, context, plan, act, evaluate and deliver.")
{
    agentsOption, verboseOption, run, agents, serve, keys, kb, memory, approvals, approve, deny, resume, close, audit, show, moveDefinition, runs, artifacts, schedules, hooks, eval,
};
return await root.Parse(args).InvokeAsync();
