using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Parallelize.Orleans;

/// <summary>One silo of the example's cluster, in its own process, on loopback.</summary>
/// <remarks>
/// Membership: development clustering, whose table lives in silo 0 (the primary), so no external server is needed;
/// any other silo may die (kill -9) and the cluster carries on. Probes every second, declared dead after three missed
/// probes: a killed silo is out of the membership in a few seconds, where the defaults take about a minute.
/// </remarks>
internal static class SiloHost
{
    public static async Task<int> RunAsync(int index, Endpoints endpoints)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UseDevelopmentClustering(endpoints.Silo(0))
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = Endpoints.ClusterId;
                o.ServiceId = Endpoints.ClusterId;
            })
            .Configure<SiloOptions>(o => o.SiloName = Endpoints.SiloName(index))
            .ConfigureEndpoints(IPAddress.Loopback, endpoints.Silo(index).Port, endpoints.Gateway(index).Port, listenOnAnyHostAddress: false)
            .Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = TimeSpan.FromSeconds(1))
            .AddParallelizeExecutors(r => r.Add<Sleeper>()));

        using IHost host = builder.Build();
        await host.StartAsync();
        Console.WriteLine($"{Endpoints.SiloName(index)} ready on {endpoints.Silo(index)}, gateway {endpoints.Gateway(index)}, pid {Environment.ProcessId}");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
