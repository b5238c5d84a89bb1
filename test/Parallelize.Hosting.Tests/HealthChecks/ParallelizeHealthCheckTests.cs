using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Parallelize.Hosting.Tests.Support;

namespace Parallelize.Hosting.Tests.HealthChecks;

/// <summary>The pool's health check through the container's <see cref="HealthCheckService"/>.</summary>
public sealed class ParallelizeHealthCheckTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Check_RunningPool_IsHealthyWithTheCountsInItsData()
    {
        using IHost host = Build(services => services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>(count: 2));

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        pool.Invoke(1);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        HealthReportEntry entry = await CheckAsync(host);
        await host.StopAsync();

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(2, entry.Data["executors"]);
        Assert.Equal(0, entry.Data["retiredExecutors"]);
        Assert.Equal(1L, entry.Data["succeeded"]);
        Assert.Contains("2 executors", entry.Description, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Check_SomeExecutorsRetired_IsDegraded()
    {
        using IHost host = Build(
            services => services.AddParallelize<int, int>().AddAsyncExecutor<BrokenExecutor>().AddAsyncExecutor<EchoAsyncExecutor>(),
            new() { ["Parallelize:MaxRestarts"] = "0" });

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        await Timeouts.Until(() => pool.GetProgress().RetiredExecutors == 1, "the broken executor is retired");
        HealthReportEntry entry = await CheckAsync(host);
        await host.StopAsync();

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("1 of 2 executors are retired", entry.Description, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Check_PoolPausedForAnOutage_IsDegraded()
    {
        using IHost host = Build(services => services.AddParallelize<int, int>()
            .AddAsyncExecutor<EchoAsyncExecutor>(count: 2)
            .ConfigurePool((options, _) => options with
            {
                // Every call fails: an outage after 4 of them; the first probe is far beyond the test.
                Outages = new OutageOptions { Window = 4, FailureRatio = 1, MinimumDistinctInputs = 2, ProbeDelay = TimeSpan.FromMinutes(10), MaxProbeDelay = TimeSpan.FromMinutes(10), MaxDuration = TimeSpan.FromHours(1) },
            }));
        host.Services.GetRequiredService<Switchboard>().Throws = static _ => true;

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        for (int i = 1; i <= 10; i++)
        {
            pool.Invoke(i);
        }

        await Timeouts.Until(() => pool.GetProgress().IsPaused, "the pool pauses for the outage");
        HealthReportEntry entry = await CheckAsync(host);
        await host.StopAsync(new CancellationToken(canceled: true));

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("paused", entry.Description, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Check_EveryExecutorRetired_IsTheFailureStatus()
    {
        using IHost host = Build(
            services => services.AddParallelize<int, int>().AddAsyncExecutor<BrokenExecutor>(count: 2),
            new() { ["Parallelize:MaxRestarts"] = "0" });

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        await Timeouts.Until(() => pool.GetProgress().IsFaulted, "the pool is faulted");
        HealthReportEntry entry = await CheckAsync(host);
        await host.StopAsync();

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("faulted", entry.Description, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Check_StoppedPool_IsTheRegisteredFailureStatus()
    {
        using IHost host = Build(
            services => services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>(),
            failureStatus: HealthStatus.Degraded);

        await host.StartAsync();
        await host.StopAsync();
        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("stopped", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void AddParallelizeHealthCheck_BadArguments_ThrowNamingThem()
    {
        IHealthChecksBuilder builder = new ServiceCollection().AddHealthChecks();

        Assert.Equal("builder", Assert.Throws<ArgumentNullException>(() => ParallelizeHealthChecksBuilderExtensions.AddParallelizeHealthCheck<int, int>(null!)).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => builder.AddParallelizeHealthCheck<int, int>(null!)).ParamName);
    }

    private static IHost Build(Action<IServiceCollection> configure, Dictionary<string, string?>? settings = null, HealthStatus? failureStatus = null) =>
        TestHost.Build(
            services =>
            {
                configure(services);
                services.AddHealthChecks().AddParallelizeHealthCheck<int, int>(failureStatus: failureStatus, tags: ["ready"]);
            },
            settings);

    private static async Task<HealthReportEntry> CheckAsync(IHost host)
    {
        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        HealthReportEntry entry = report.Entries[ParallelizeHealthChecksBuilderExtensions.DefaultName];
        Assert.Equal(["ready"], entry.Tags);
        return entry;
    }
}
