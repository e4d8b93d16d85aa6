using System.CommandLine;
using Agentry.Cli;

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
var run = new Command("run", "Run an agent on a goal with every service in this process, showing each step as it happens. Exits 0 when the run completed, 1 when it failed, escalated or was cancelled, 2 on bad input.")
{
    goalArgument, agentOption, inputOption, busOption, timeoutOption,
};
run.SetAction((parse, cancellationToken) => Commands.RunAsync(
    new RunOptions(parse.GetValue(goalArgument) ?? "", parse.GetValue(agentOption)!, parse.GetValue(agentsOption), parse.GetValue(inputOption), parse.GetValue(verboseOption),
        Bus: parse.GetValue(busOption), Timeout: parse.GetValue(timeoutOption)),
    Console.Out,
    Console.Error,
    cancellationToken));

var agents = new Command("agents", "List the agents defined in the agents folder, with their tools and limits. Exits 2 when a definition is invalid, naming the file and line.");
agents.SetAction((parse, _) => Commands.ListAgentsAsync(parse.GetValue(agentsOption), Console.Out, Console.Error));

var urlsOption = new Option<string>("--urls")
{
    Description = "Where the HTTP API listens.",
    DefaultValueFactory = _ => "http://127.0.0.1:5080",
};
var serve = new Command("serve", "Host every service and the Gateway's HTTP API (POST /runs, GET /runs/{id}) in this process until stopped.")
{
    urlsOption,
};
serve.SetAction((parse, cancellationToken) => Commands.ServeAsync(parse.GetValue(agentsOption), parse.GetValue(urlsOption)!, parse.GetValue(verboseOption), Console.Error, cancellationToken));

var gatewayOption = new Option<Uri>("--gateway")
{
    Description = "The Gateway that holds the run (default: AGENTRY_GATEWAY, or http://127.0.0.1:5080, where `agentry serve` listens).",
    DefaultValueFactory = _ => new Uri(Environment.GetEnvironmentVariable("AGENTRY_GATEWAY") is { Length: > 0 } url ? url : "http://127.0.0.1:5080"),
};
var byOption = new Option<string?>("--by") { Description = "Who decides (default: your user name); recorded on the run." };
var runIdArgument = new Argument<string>("run") { Description = "The run's id." };
var guidanceArgument = new Argument<string>("guidance") { Description = "What the agent should do now, in words." };
var resume = new Command("resume", "Resume an escalated run with guidance: the agent plans its next step with it. Exits 0 when accepted, 1 when the run is not escalated or no Gateway answers, 2 on bad input.")
{
    runIdArgument, guidanceArgument, gatewayOption, byOption,
};
resume.SetAction((parse, cancellationToken) => Commands.DecideEscalationAsync(
    "resume", parse.GetValue(runIdArgument)!, parse.GetValue(guidanceArgument) ?? "", parse.GetValue(byOption), parse.GetValue(gatewayOption)!, Console.Out, Console.Error, cancellationToken));
var resolutionArgument = new Argument<string>("resolution") { Description = "What was done or decided; it becomes the run's answer." };
var close = new Command("close", "Close an escalated run with a resolution: it ends Completed, the resolution as its answer. Exits as resume does.")
{
    runIdArgument, resolutionArgument, gatewayOption, byOption,
};
close.SetAction((parse, cancellationToken) => Commands.DecideEscalationAsync(
    "close", parse.GetValue(runIdArgument)!, parse.GetValue(resolutionArgument) ?? "", parse.GetValue(byOption), parse.GetValue(gatewayOption)!, Console.Out, Console.Error, cancellationToken));

var root = new RootCommand("Agentry: a runtime for AI agents. Runs an agent through trigger, context, plan, act, evaluate and deliver.")
{
    agentsOption, verboseOption, run, agents, serve, resume, close,
};
return await root.Parse(args).InvokeAsync();
