using Agentry.Agents;
using Agentry.Evaluator;
using Agentry.Samples;
using Agentry.ServiceDefaults;
using Agentry.Tools;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddAgentryTools(builder.Configuration).AddSampleTools(builder.Configuration);
builder.Services.AddEvaluator(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddEvaluatorConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
