using Agentry.Planner;
using Agentry.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddPlanner(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddPlannerConsumers(builder.Configuration));

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
