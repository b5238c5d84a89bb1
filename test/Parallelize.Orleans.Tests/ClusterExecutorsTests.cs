using Orleans.TestingHost;
using Parallelize.Orleans.Tests.Support;

namespace Parallelize.Orleans.Tests;

/// <summary>A pool whose executors are grains on a three-silo in-process cluster: spread, killed silos, added silos, stops.</summary>
[Collection(ClusterTests.Name)]
public sealed class ClusterExecutorsTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ThreeSilos_SpreadsExecutorsAndEveryInputEndsInResults()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        var logger = new ListLogger();
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, 6, LocalCluster.Options("spread") with { Logger = logger });
        await using var pool = new Parallelize<int, Echo>(executors);
        using Scenario scenario = Scenario.Begin(new Scenario());

        for (int i = 0; i < 300; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, 300), pool.Results.Select(static r => r.Input).Order());
        Assert.Empty(pool.Failures);
        string[] silos = [.. cluster.Silos.Select(static s => s.Address())];
        Assert.All(executors.Placements, p => Assert.Equal(ExecutorState.Running, p.State));
        Assert.Equal(silos.Order(), executors.Placements.Select(static p => p.Node!).Distinct().Order());
        Assert.All(executors.Placements.GroupBy(static p => p.Node), g => Assert.Equal(2, g.Count()));
        Assert.Equal(silos.Order(), pool.Results.Select(static r => r.Silo).Distinct().Order());
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal((300, 300, 0, 0, 0), (stats.Dispatched, stats.Completed, stats.Lost, stats.LateReplies, stats.InFlight));
        Assert.Equal(300, stats.Nodes.Sum(static n => n.Completed));
        Assert.All(stats.Nodes, n => Assert.Equal(2, n.Executors));

        // Where each executor runs is in the log, and the meter counts per silo.
        Assert.Equal(6, logger.Named("ExecutorPlaced").Count());
        Assert.All(silos, silo => Assert.Equal(2, logger.Named("ExecutorPlaced").Count(m => m.Contains(silo, StringComparison.Ordinal))));
        Dictionary<string, long> completedPerSilo = MeterReadings.Read(ClusterMetrics.Completed, "spread");
        Assert.Equal(silos.Order(), completedPerSilo.Keys.Order());
        Assert.Equal(300, completedPerSilo.Values.Sum());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task KillSilo_CallsInFlightOnIt_RerunElsewhereAndEveryInputEndsOnce()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        const int Executors = 6;
        const int Calls = 60;
        var logger = new ListLogger();
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, Executors, LocalCluster.Options("kill") with { Logger = logger });
        await using var pool = new Parallelize<int, Echo>(executors);
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static _ => true });
        for (int i = 0; i < Calls; i++)
        {
            pool.Invoke(i);
        }

        // Every executor holds one call at the gate: two of them on the silo about to die.
        await scenario.WaitForArrivalsAsync(Executors);
        InProcessSiloHandle victim = cluster.Silos[2];
        int[] onVictim = [.. scenario.Arrivals.Where(a => a.Silo == victim.Address()).Select(static a => a.Input)];
        Assert.Equal(2, onVictim.Length);

        await cluster.KillSiloAsync(victim);
        await LocalCluster.UntilAsync(() => executors.GetStatistics().Lost >= onVictim.Length, "the calls on the killed silo to be lost");
        scenario.Open();
        await pool.WaitAsync().WaitAsync(Timeouts.Wait);

        // Every input ended exactly once, in Results; the two that were on the dead silo ran again on a live one.
        Assert.Equal(Enumerable.Range(0, Calls), pool.Results.Select(static r => r.Input).Order());
        Assert.Empty(pool.Failures);
        Assert.All(pool.Results, r => Assert.NotEqual(victim.Address(), r.Silo));
        Assert.All(onVictim, input => Assert.Contains(scenario.Arrivals, a => a.Input == input && a.Silo != victim.Address()));
        // Calls to live silos may be lost too while the dead one still holds part of the grain directory: each lost
        // call was sent again, and only the two on the victim were lost there.
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal(onVictim.Length, stats.Nodes.Single(n => n.Node == victim.Address()).Lost);
        Assert.False(stats.Nodes.Single(n => n.Node == victim.Address()).IsActive);
        Assert.Equal(stats.Lost, stats.Redispatched);
        Assert.Equal(Calls, stats.Completed);
        Assert.Equal(Calls + stats.Lost, stats.Dispatched);
        Assert.True(pool.Restarts >= onVictim.Length);
        Assert.All(executors.Placements, p => Assert.NotEqual(victim.Address(), p.Node));
        Assert.Equal(2, logger.Named("ExecutorLost").Count(m => m.Contains(victim.Address(), StringComparison.Ordinal)));
        Assert.Contains(logger.Named("NodeLeft"), m => m.Contains(victim.Address(), StringComparison.Ordinal));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StartAdditionalSilo_MidRun_ExecutorsMoveThereAndItRunsCalls()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        const int Executors = 8;
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, Executors, LocalCluster.Options("join"));
        await using var pool = new Parallelize<int, Echo>(executors);
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static input => input < Executors });
        for (int i = 0; i < Executors; i++)
        {
            pool.Invoke(i);
        }

        await scenario.WaitForArrivalsAsync(Executors);
        InProcessSiloHandle added = await cluster.StartAdditionalSiloAsync();
        await LocalCluster.UntilAsync(() => executors.ActiveSilos().Contains(added.SiloAddress), "the client to see the new silo");
        scenario.Open();
        for (int i = Executors; i < 200; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Wait);

        // 3, 3 and 2 executors on the first silos; two moved to the new one, between two calls: 2 on each of four.
        Assert.Equal(Enumerable.Range(0, 200), pool.Results.Select(static r => r.Input).Order());
        Assert.Contains(pool.Results, r => r.Silo == added.Address());
        Assert.Equal(4, executors.Placements.Select(static p => p.Node).Distinct().Count());
        Assert.All(executors.Placements.GroupBy(static p => p.Node), g => Assert.Equal(2, g.Count()));
        Assert.Equal(2, executors.Placements.Count(p => p.Node == added.Address() && p.Generation == 2));
        Assert.Equal(0, executors.GetStatistics().Lost);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_CallsRunningOnSilos_CancelsThemThereAndSplitsTheAborted()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        const int Executors = 3;
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, Executors, LocalCluster.Options("stop"));
        var pool = new Parallelize<int, Echo>(executors);
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static _ => true });
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        await scenario.WaitForArrivalsAsync(Executors);
        int[] running = [.. scenario.Arrivals.Select(static a => a.Input).Order()];

        ClusterStopResult<int> stopped = await executors.StopAsync(pool, TimeSpan.Zero);

        Assert.Equal(running, stopped.OutcomeUnknown.Order());
        Assert.Equal(Enumerable.Range(0, 20).Except(running), stopped.NeverStarted);
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
        await LocalCluster.UntilAsync(() => scenario.Cancellations.Count == Executors, "every silo to see its call cancelled");
        Assert.Equal(running, scenario.Cancellations.Select(static c => c.Input).Order());
        Assert.Equal(3, cluster.Silos.Select(static s => s.Address()).Intersect(scenario.Cancellations.Select(static c => c.Silo)).Count());
        Assert.Equal(Executors, executors.GetStatistics().CancelledByStop);
        await pool.DisposeAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_ExecutorIgnoresCancellation_ItsLateReplyIsDroppedAndCounted()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        var logger = new ListLogger();
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, 3, LocalCluster.Options("late") with { Logger = logger });
        var pool = new Parallelize<int, Echo>(executors);
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static _ => true, IgnoresCancellation = true });
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(i);
        }

        await scenario.WaitForArrivalsAsync(3);
        ClusterStopResult<int> stopped = await executors.StopAsync(pool, TimeSpan.Zero);
        scenario.Open();
        await LocalCluster.UntilAsync(() => executors.GetStatistics().LateReplies == 3, "the three late replies");

        Assert.Equal(scenario.Arrivals.Select(static a => a.Input).Order(), stopped.OutcomeUnknown.Order());
        Assert.Equal(2, stopped.NeverStarted.Count);
        Assert.Empty(pool.Results);
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal((3, 0, 3), (stats.CancelledByStop, stats.Completed, stats.LateReplies));
        Assert.Equal(3, logger.Named("LateReplyDropped").Count());
        await pool.DisposeAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_WithTimeToFinish_CallsInFlightCompleteAndNothingIsUnknown()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, 3, LocalCluster.Options("finish"));
        var pool = new Parallelize<int, Echo>(executors);
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static input => input < 3 });
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(i);
        }

        await scenario.WaitForArrivalsAsync(3);
        Task<ClusterStopResult<int>> stopping = executors.StopAsync(pool, Timeouts.Wait);
        scenario.Open();
        ClusterStopResult<int> stopped = await stopping;

        Assert.Empty(stopped.OutcomeUnknown);
        Assert.Equal([0, 1, 2], pool.Results.Select(static r => r.Input).Order());
        Assert.Equal(Enumerable.Range(3, 7), stopped.NeverStarted);
        await pool.DisposeAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ExecutorThrowsOnSilo_InputEndsInFailuresWithTheRemoteException()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, 3, LocalCluster.Options("throws"));
        await using var pool = new Parallelize<int, Echo>(executors, new ParallelizeOptions { MaxAttempts = 2 });
        using Scenario scenario = Scenario.Begin(new Scenario { Throws = static input => input == 7 });
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, 20).Where(static i => i != 7), pool.Results.Select(static r => r.Input).Order());
        Failure<int> failure = Assert.Single(pool.Failures);
        Assert.Equal((7, 2), (failure.Input, failure.Attempts));
        RemoteExecutorException remote = Assert.IsType<RemoteExecutorException>(failure.Exceptions[^1]);
        Assert.Equal(typeof(InvalidDataException).FullName, remote.RemoteType);
        Assert.Contains("input 7 is bad", remote.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal(2, executors.GetStatistics().Failed);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_SynchronousExecutor_RunsOnAThreadOfItsOwnAndIsDisposedAtStop()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        int disposedBefore = SyncEchoExecutor.Disposed;
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<SyncEchoExecutor, int, Echo>(cluster.Client, 3, LocalCluster.Options("sync"));
        var pool = new Parallelize<int, Echo>(executors);
        Assert.Equal(3, (await pool.GetExecutorsAsync()).Count);
        for (int i = 0; i < 50; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();
        await pool.DisposeAsync();

        Assert.Equal(50, pool.Results.Count);
        Assert.All(pool.Results, r => Assert.StartsWith("Parallelize sync/", r.Silo, StringComparison.Ordinal));
        Assert.Equal(3, SyncEchoExecutor.Disposed - disposedBefore);
        Assert.All(executors.Placements, p => Assert.Equal(ExecutorState.Stopped, p.State));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task TryInvoke_BoundedPoolWithEveryExecutorBusy_RefusesPastCapacity()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, 3, LocalCluster.Options("bounded"));
        await using var pool = new Parallelize<int, Echo>(executors, new ParallelizeOptions { BoundedCapacity = 2 });
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static _ => true });
        for (int i = 0; i < 3; i++)
        {
            // One at a time: each is taken by an executor (and held on its silo) before the next.
            Assert.True(pool.TryInvoke(i));
            await scenario.WaitForArrivalsAsync(1);
        }

        Assert.True(pool.TryInvoke(3));
        Assert.True(pool.TryInvoke(4));

        Assert.False(pool.TryInvoke(5));
        scenario.Open();
        await pool.WaitAsync();
        Assert.Equal(5, pool.Results.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Create_ExecutorNotRegisteredOnSilos_PoolFaultsNamingTheMissingRegistration()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(2);
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<int, Echo>(cluster.Client, "no-such-executor", 2, LocalCluster.Options("missing"));
        var pool = new Parallelize<int, Echo>(executors, new ParallelizeOptions { MaxRestarts = 1, RestartBackoff = TimeSpan.Zero });
        pool.Invoke(1);

        ParallelizeException fault = await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync());

        Assert.Contains("No executor named 'no-such-executor' is registered", fault.ToString(), StringComparison.Ordinal);
        Assert.Equal([1], pool.Stop());
    }
}
