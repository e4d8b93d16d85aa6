using Agentry.Evaluator;
using Agentry.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddEvaluator(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddEvaluatorConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
