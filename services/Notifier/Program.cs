using Agentry.Notifier;
using Agentry.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddNotifier();
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddNotifierConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
