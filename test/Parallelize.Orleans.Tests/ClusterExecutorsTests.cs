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

        // The first six calls are held until six have arrived: each executor (one call at a time) has then run one, so
        // every silo has results whatever the timing of the executors' start.
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static input => input < 6 });

        for (int i = 0; i < 300; i++)
        {
            pool.Invoke(i);
        }

        await scenario.WaitForArrivalsAsync(6);
        scenario.Open();
        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, 300), pool.Results.Select(static r => r.Input).Order());
        Assert.Empty(pool.Failures);
        string[] silos = [.. cluster.Silos.Select(static s => s.Address())];
        Assert.All(executors.Placements, p => Assert.Equal(ExecutorState.Running, p.State));
        Assert.Equal(silos.Order(), executors.Placements.Select(static p => p.Node!).Distinct().Order());
        Assert.All(executors.Placements.GroupBy(static p => p.Node), g => Assert.Equal(2, g.Count()));
        Assert.Equal(silos.Order(), pool.Results.Select(static r => r.Silo).Distinct().Order());
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal((300, 300, 0, 0), (stats.Dispatched, stats.Succeeded, stats.Lost, stats.LateReplies));
        Assert.InRange(stats.Batches, 1, 300);
        Assert.Equal(300, stats.Nodes.Sum(static n => n.Succeeded));
        Assert.All(stats.Nodes, n => Assert.Equal(2, n.Executors));

        // Where each executor runs is in the log, and the meter counts per silo.
        Assert.Equal(6, logger.Named("ExecutorPlaced").Count());
        Assert.All(silos, silo => Assert.Equal(2, logger.Named("ExecutorPlaced").Count(m => m.Contains(silo, StringComparison.Ordinal))));
        Dictionary<string, long> completedPerSilo = MeterReadings.Read(ClusterMetrics.Succeeded, "spread");
        Assert.Equal(silos.Order(), completedPerSilo.Keys.Order());
        Assert.Equal(300, completedPerSilo.Values.Sum());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task KillSilo_CallsInFlightOnIt_RerunElsewhereWithoutUsingAttemptsAndEveryInputEndsOnce()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        const int Executors = 6;
        const int Calls = 60;
        var logger = new ListLogger();
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, Executors, LocalCluster.Options("kill") with { Logger = logger });

        // One attempt per input: an input whose loss used an attempt would end in Failures.
        await using var pool = new Parallelize<int, Echo>(executors, new ParallelizeOptions { MaxAttempts = 1 });
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

        // Every input ended exactly once, in Results, none in Failures although each had a single attempt; the two
        // that were on the dead silo ran again on a live one.
        Assert.Equal(Enumerable.Range(0, Calls), pool.Results.Select(static r => r.Input).Order());
        Assert.Empty(pool.Failures);
        Assert.Empty(pool.Aborted);
        Assert.All(pool.Results, r => Assert.NotEqual(victim.Address(), r.Silo));
        Assert.All(onVictim, input => Assert.Contains(scenario.Arrivals, a => a.Input == input && a.Silo != victim.Address()));
        // Calls to live silos may be lost too while the dead one still holds part of the grain directory: each lost
        // call was sent again, and only the two on the victim were lost there.
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal(onVictim.Length, stats.Nodes.Single(n => n.Node == victim.Address()).Lost);
        Assert.False(stats.Nodes.Single(n => n.Node == victim.Address()).IsActive);
        Assert.Equal(stats.Lost, stats.Redispatched);
        Assert.Equal(Calls, stats.Succeeded);
        Assert.Equal(Calls + stats.Lost, stats.Dispatched);
        Assert.Equal(0, pool.GetProgress().Failed);

        // The lost executors are re-created on live silos (each a new generation), perhaps after the last input ended.
        await LocalCluster.UntilAsync(
            () => executors.Placements.All(p => p.State == ExecutorState.Running && p.Node != victim.Address()),
            "every executor to run on a live silo");
        Assert.True(pool.Restarts >= onVictim.Length);
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
        using Scenario first = Scenario.Begin(new Scenario { Held = static input => input < Executors });
        for (int i = 0; i < Executors; i++)
        {
            pool.Invoke(i);
        }

        await first.WaitForArrivalsAsync(Executors);
        InProcessSiloHandle added = await cluster.StartAdditionalSiloAsync();
        await LocalCluster.UntilAsync(() => executors.ActiveSilos().Contains(added.SiloAddress), "the client to see the new silo");

        // A second round held at a gate: every executor takes one call, moving first if it is to move.
        using Scenario second = Scenario.Begin(new Scenario { Held = static input => input < 2 * Executors });
        first.Open();
        for (int i = Executors; i < 2 * Executors; i++)
        {
            pool.Invoke(i);
        }

        await second.WaitForArrivalsAsync(Executors);

        // 3, 3 and 2 executors on the first silos; two moved to the new one, each as a new grain: 2 on each of four.
        Assert.Equal(4, executors.Placements.Select(static p => p.Node).Distinct().Count());
        Assert.All(executors.Placements.GroupBy(static p => p.Node), g => Assert.Equal(2, g.Count()));
        Assert.Equal(2, executors.Placements.Count(p => p.Node == added.Address() && p.Generation == 2));
        Assert.Equal(2, second.Arrivals.Count(a => a.Silo == added.Address()));

        second.Open();
        for (int i = 2 * Executors; i < 200; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Wait);
        Assert.Equal(Enumerable.Range(0, 200), pool.Results.Select(static r => r.Input).Order());
        Assert.Contains(pool.Results, r => r.Silo == added.Address());
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal(0, stats.Lost);
        Assert.True(stats.Nodes.Single(n => n.Node == added.Address()).Succeeded >= 2);

        // A move is not a restart: no executor was blamed.
        Assert.Equal(0, pool.Restarts);
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

        ClusterStopReport<int> stopped = await executors.StopAsync(pool, TimeSpan.Zero);

        // Outcome unknown is exactly the calls that were running on the silos; the rest never started.
        Assert.Equal(running, stopped.OutcomeUnknown.Order());
        Assert.Equal(Enumerable.Range(0, 20).Except(running), stopped.NeverStarted);
        Assert.Equal(pool.AbortedWhileRunning, stopped.OutcomeUnknown);
        Assert.Equal(pool.Aborted.Order(), stopped.NeverStarted.Concat(stopped.OutcomeUnknown).Order());
        ClusterStopReport<int> again = executors.GetStopReport(pool);
        Assert.Equal(stopped.NeverStarted, again.NeverStarted);
        Assert.Equal(stopped.OutcomeUnknown, again.OutcomeUnknown);
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
        ClusterStopReport<int> stopped = await executors.StopAsync(pool, TimeSpan.Zero);
        scenario.Open();
        // Each late reply is counted, then logged, on the reply's thread: wait for both.
        await LocalCluster.UntilAsync(
            () => executors.GetStatistics().LateReplies == 3 && logger.Named("LateReplyDropped").Count() == 3,
            "the three late replies, counted and logged");

        Assert.Equal(scenario.Arrivals.Select(static a => a.Input).Order(), stopped.OutcomeUnknown.Order());
        Assert.Equal(2, stopped.NeverStarted.Count);
        Assert.Empty(pool.Results);
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal((3, 0, 3), (stats.CancelledByStop, stats.Succeeded, stats.LateReplies));

        // The pool dropped them too, and counted them.
        Assert.Equal(3, pool.GetProgress().LateOutcomes);
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
        Task<ClusterStopReport<int>> stopping = executors.StopAsync(pool, Timeouts.Wait);
        scenario.Open();
        ClusterStopReport<int> stopped = await stopping;

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
        Assert.Contains(remote.Node, cluster.Silos.Select(static s => s.Address()));
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

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ExecutorSaysItWasLostOnSilo_InputRunsAgainWithoutUsingAnAttempt()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(3);
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<ScenarioExecutor, int, Echo>(cluster.Client, 3, LocalCluster.Options("says-lost"));
        await using var pool = new Parallelize<int, Echo>(executors, new ParallelizeOptions { MaxAttempts = 1 });
        using Scenario scenario = Scenario.Begin(new Scenario { LosesOnce = static input => input is 3 or 11 });
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        // With a single attempt each, both still end in Results: a lost executor costs the input nothing.
        Assert.Equal(Enumerable.Range(0, 20), pool.Results.Select(static r => r.Input).Order());
        Assert.Empty(pool.Failures);
        Assert.Equal(2, scenario.Arrivals.Count(static a => a.Input == 3));
        Assert.Equal(2, scenario.Arrivals.Count(static a => a.Input == 11));

        // The executor that said so is blamed and re-created as a new grain (once per generation), after its lease.
        await LocalCluster.UntilAsync(() => executors.Placements.Any(static p => p.Generation > 1), "an executor to be re-created");
        Assert.True(pool.Restarts >= 1);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ManyTinyCalls_EachLeaseIsOneMessageOfAtMostMaxBatchSizeCalls()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(1);
        const int Calls = 5_000;
        const int MaxBatch = 8;
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<SyncEchoExecutor, int, Echo>(cluster.Client, 2, LocalCluster.Options("batched") with { MaxBatchSize = MaxBatch });
        await using var pool = new Parallelize<int, Echo>(executors);
        await pool.GetExecutorsAsync();
        for (int i = 0; i < Calls; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, Calls), pool.Results.Select(static r => r.Input).Order());
        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal(((long)Calls, (long)Calls), (stats.Dispatched, stats.Succeeded));
        Assert.InRange(stats.Batches, (Calls + MaxBatch - 1) / MaxBatch, Calls);
        Assert.True(stats.Batches * 4 <= Calls, $"{stats.Batches} messages for {Calls} tiny calls: leases are sized on the calls' run time on the silo, so most messages carry many calls");
        Assert.Equal(stats.Batches, stats.Nodes.Sum(static n => n.Batches));
        Assert.Equal(Calls, MeterReadings.Read(ClusterMetrics.Dispatched, "batched").Values.Sum());
        Assert.Equal(stats.Batches, MeterReadings.Read(ClusterMetrics.Batches, "batched").Values.Sum());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_MaxBatchSizeOne_SendsOneCallPerMessage()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(1);
        await using ClusterExecutors<int, Echo> executors = OrleansExecutors.Create<SyncEchoExecutor, int, Echo>(cluster.Client, 1, LocalCluster.Options("unbatched") with { MaxBatchSize = 1 });
        await using var pool = new Parallelize<int, Echo>(executors);
        for (int i = 0; i < 2_000; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        ClusterStatistics stats = executors.GetStatistics();
        Assert.Equal((2_000L, 2_000L, 2_000L), (stats.Dispatched, stats.Batches, stats.Succeeded));
        Assert.Equal(2_000, pool.Results.Count);
    }
}
