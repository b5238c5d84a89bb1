using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Parallelize.Orleans.Tests.Support;

/// <summary>An in-process Orleans cluster whose silos host the test executors, with membership settings that declare a killed silo dead in well under a second here.</summary>
internal static class LocalCluster
{
    public static async Task<InProcessTestCluster> StartAsync(short silos)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo
            .AddParallelizeExecutors(r => r.Add<ScenarioExecutor>().Add<SyncEchoExecutor>())
            .Configure<ClusterMembershipOptions>(m =>
            {
                // Probes every 0.5 s, declared dead after 3 missed ones (2 votes); the defaults take about a minute.
                m.ProbeTimeout = TimeSpan.FromMilliseconds(500);
                m.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            }));
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Options for the tests' executor sets: the membership read every 100 ms.</summary>
    public static OrleansExecutorOptions Options(string name) => new()
    {
        Name = name,
        MembershipRefreshInterval = TimeSpan.FromMilliseconds(100),
    };

    public static string Address(this InProcessSiloHandle silo) => silo.SiloAddress.ToString();

    /// <summary>Polls (bounded) until <paramref name="condition"/> holds; for cluster state that has no event to wait on.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Timeouts.Wait);
        while (!condition())
        {
            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }
        }
    }

    public static IReadOnlyList<SiloAddress> ActiveSilos<TIn, TOut>(this ClusterExecutors<TIn, TOut> executors) =>
        executors.View.ActiveSilos();
}
