using Agentry.Agents;
using Agentry.Planner;
using Agentry.Samples;
using Agentry.ServiceDefaults;
using Agentry.Tools;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddAgentryTools(builder.Configuration).AddSampleTools(builder.Configuration);
builder.Services.AddPlanner(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddPlannerConsumers(builder.Configuration));

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
