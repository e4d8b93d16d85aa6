using Agentry.ToolExecutor.Tools;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.ToolExecutor;

public static class ToolExecutorRegistration
{
    public static IServiceCollection AddToolExecutor(this IServiceCollection services)
    {
        services.AddOptions<ToolExecutorOptions>().BindConfiguration(ToolExecutorOptions.Section);
        services.AddOptions<HttpGetOptions>().BindConfiguration(HttpGetOptions.Section);
        // Redirects are followed by the tool itself, so every hop is checked against the allow-list.
        services.AddHttpClient(HttpGetTool.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddSingleton<ITool, CalculatorTool>();
        services.AddSingleton<ITool, CurrentTimeTool>();
        services.AddSingleton<ITool, HttpGetTool>();
        services.AddSingleton<ToolRegistry>();
        services.ResolveAtStart<ToolRegistry>();
        return services;
    }

    public static void AddToolExecutorConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<ExecuteStepConsumer>();
}
