using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

/// <summary>An Orleans client of the example's cluster: it knows the gateways' endpoints (static clustering).</summary>
internal static class ClientHost
{
    public static async Task<IHost> StartAsync(Endpoints endpoints)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        builder.UseOrleansClient(client => client
            .UseStaticClustering(endpoints.Gateways)
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = Endpoints.ClusterId;
                o.ServiceId = Endpoints.ClusterId;
            }));
        IHost host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static IClusterClient Client(this IHost host) => host.Services.GetRequiredService<IClusterClient>();
}
