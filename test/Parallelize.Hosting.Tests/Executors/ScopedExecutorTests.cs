using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parallelize.Hosting.Tests.Support;

namespace Parallelize.Hosting.Tests.Executors;

/// <summary>Executors resolved from dependency injection: a scope each, made with the executor and disposed with it.</summary>
public sealed class ScopedExecutorTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task AddAsyncExecutor_EachExecutorHasItsOwnScope_DisposedWhenTheHostStopsThePool()
    {
        using IHost host = TestHost.Build(services => services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>(count: 3));
        ProbeLog log = host.Services.GetRequiredService<ProbeLog>();

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        IReadOnlyList<object> executors = await pool.GetExecutorsAsync().WaitAsync(Timeouts.Hang);
        Probe[] probes = [.. executors.Select(executor => ((ScopedAsyncExecutor<int, int>)executor).Inner).Cast<EchoAsyncExecutor>().Select(e => e.Probe)];
        bool disposedWhileRunning = probes.Any(probe => probe.IsDisposed);
        await host.StopAsync();

        Assert.Equal(3, probes.Select(probe => probe.Id).Distinct().Count());
        Assert.False(disposedWhileRunning);
        Assert.All(probes, probe => Assert.True(probe.IsDisposed));
        Assert.Equal(3, log.Creations.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task AddExecutor_AFault_DisposesTheExecutorsScopeAndTheRestartGetsANewOne()
    {
        using IHost host = TestHost.Build(
            services => services.AddParallelize<int, int>().AddExecutor<EchoExecutor>(count: 1),
            new() { ["Parallelize:MaxAttempts"] = "1", ["Parallelize:RestartOnEveryFault"] = "true" });
        ProbeLog log = host.Services.GetRequiredService<ProbeLog>();
        host.Services.GetRequiredService<Switchboard>().Throws = static input => input == 13;

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        await log.Creations.WaitForAsync(1);
        Probe first = log.Probes.Single();
        pool.Invoke(13);
        await log.Creations.WaitForAsync(2); // the deferred executor is made anew, in a new scope
        await log.Disposals.WaitForAsync(1);
        pool.Invoke(14);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        await host.StopAsync();

        Assert.True(first.IsDisposed);
        Assert.Equal(2, log.Probes.Count);
        Assert.All(log.Probes, probe => Assert.True(probe.IsDisposed));
        Assert.Equal(2, log.AsyncDisposals.Count); // a synchronous executor's scope disposes asynchronous-only services too
        Assert.Equal([14], pool.Results);
        Assert.Equal(13, Assert.Single(pool.Failures).Input);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task AddExecutor_ExecutorCannotBeResolved_CountsAsAFaultAndRetiresIt()
    {
        using IHost host = TestHost.Build(
            services => services.AddParallelize<int, int>().AddAsyncExecutor<BrokenExecutor>().AddAsyncExecutor<EchoAsyncExecutor>(),
            new() { ["Parallelize:MaxRestarts"] = "0" });

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        await Timeouts.Until(() => pool.GetProgress().RetiredExecutors == 1, "the broken executor is retired");
        pool.Invoke(1);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        await host.StopAsync();

        Assert.Equal([1], pool.Results);
        Assert.Equal(1, host.Services.GetRequiredService<ProbeLog>().Disposals.Count); // the good executor's scope, once
    }
}
