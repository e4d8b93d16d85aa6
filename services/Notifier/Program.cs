using Agentry.Agents;
using Agentry.Notifier;
using Agentry.Samples;
using Agentry.ServiceDefaults;
using Agentry.Tools;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddAgentryTools(builder.Configuration).AddSampleTools(builder.Configuration);
builder.Services.AddNotifier(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddNotifierConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
