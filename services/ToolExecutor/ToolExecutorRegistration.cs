using Agentry.ToolExecutor.Tools;
using Agentry.ServiceDefaults;
using Agentry.ServiceDefaults.Tools;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.ToolExecutor;

public static class ToolExecutorRegistration
{
    public static IServiceCollection AddToolExecutor(this IServiceCollection services)
    {
        services.AddOptions<ToolExecutorOptions>().BindConfiguration(ToolExecutorOptions.Section);
        services.AddOptions<HttpToolOptions>(BuiltInTools.HttpGet.Name).BindConfiguration(HttpGetTool.Section);
        services.AddOptions<HttpToolOptions>(BuiltInTools.HttpPost.Name).BindConfiguration(HttpPostTool.Section);
        services.AddHttpClient(HttpTools.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddSingleton<ITool, CalculatorTool>();
        services.AddSingleton<ITool, CurrentTimeTool>();
        services.AddSingleton<ITool, HttpGetTool>();
        services.AddSingleton<ITool, HttpPostTool>();
        services.AddSingleton<ToolRegistry>();
        services.TryAddSingleton<IToolCallLedger, InMemoryToolCallLedger>();
        services.ResolveAtStart<ToolRegistry>();
        return services;
    }

    public static void AddToolExecutorConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ExecuteStepConsumer>();
        bus.AddConsumer<RunEndedConsumer>();
    }
}
