using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parallelize.Orleans;
using Parallelize.Signals;
using Parallelize;

/// <summary>The job: the sleepers across the cluster, a silo killed with kill -9 mid-run, and the accounting at the end.</summary>
internal static class JobClient
{
    public static async Task<int> RunAsync(Endpoints endpoints, int calls, int sleepMs, int executorCount, int killAfter)
    {
        using IHost host = await ClientHost.StartAsync(endpoints);
        ILogger logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Parallelize.Orleans");
        var clock = Stopwatch.StartNew();
        await using ClusterExecutors<SleepRequest, SleepResult> executors = OrleansExecutors.Create<Sleeper, SleepRequest, SleepResult>(
            host.Client(),
            executorCount,
            new OrleansExecutorOptions { Name = "sleepers-" + Environment.ProcessId, Logger = logger });
        using var pool = new Parallelize<SleepRequest, SleepResult>(
            executors,
            new ParallelizeOptions { Name = "sleepers", BoundedCapacity = executorCount * 2 });
        using SignalStop<SleepRequest> stop = pool.StopOnSignals(TimeSpan.FromSeconds(2));

        // Deferred creation: every executor is created on its silo, all at once.
        IReadOnlyList<object> live = await pool.GetExecutorsAsync();
        Console.WriteLine($"{live.Count} executors ready in {clock.ElapsedMilliseconds} ms: {PerSilo(executors)}");

        Task<(string Silo, int Pid, int InFlight)?> killing = killAfter > 0
            ? KillOneSiloAsync(pool, executors, Math.Min(killAfter, calls), calls, stop.Signalled)
            : Task.FromResult<(string, int, int)?>(null);
        using var reporting = new CancellationTokenSource();
        Task report = ReportAsync(pool, executors, calls, reporting.Token);
        int invoked = 0;
        try
        {
            for (; invoked < calls && !stop.Signalled.IsCancellationRequested; invoked++)
            {
                await pool.InvokeAsync(new SleepRequest(invoked, sleepMs), stop.Signalled);
            }
        }
        catch (OperationCanceledException) when (stop.Signalled.IsCancellationRequested)
        {
        }

        await pool.WaitAsync();
        (string Silo, int Pid, int InFlight)? killed = await killing;
        string placedAtEnd = PerSilo(executors);
        stop.Stop();
        ClusterStopReport<SleepRequest> aborted = executors.GetStopReport(pool);
        await reporting.CancelAsync();
        await report;

        // Every call made must be in exactly one place: Results, Failures or aborted.
        int[] seen = new int[invoked];
        foreach (SleepResult result in pool.Results)
        {
            seen[result.Id]++;
        }

        foreach (Failure<SleepRequest> failure in pool.Failures)
        {
            seen[failure.Input.Id]++;
        }

        foreach (SleepRequest request in aborted.NeverStarted.Concat(aborted.OutcomeUnknown))
        {
            seen[request.Id]++;
        }

        int lost = seen.Count(static n => n == 0);
        int duplicated = seen.Where(static n => n > 1).Sum(static n => n - 1);
        ClusterStatistics stats = executors.GetStatistics();
        Console.WriteLine($"calls {invoked} = results {pool.Results.Count} + failures {pool.Failures.Count} + aborted {aborted.Count} (never started {aborted.NeverStarted.Count}, outcome unknown {aborted.OutcomeUnknown.Count}); lost {lost}, duplicated {duplicated}");
        if (killed is { } k)
        {
            long lostOnIt = stats.Nodes.Where(n => n.SiloName == k.Silo).Sum(static n => n.Lost);
            Console.WriteLine($"killed {k.Silo} (pid {k.Pid}, kill -9) with {k.InFlight} executor(s) on it: calls lost on it {lostOnIt}, lost in all {stats.Lost} "
                + $"(calls to live silos fail too until the dead one is out of the membership), re-dispatched {stats.Redispatched} without using attempts, "
                + $"late replies dropped {stats.LateReplies} (the pool counted {pool.GetProgress().LateOutcomes}), executor restarts {pool.Restarts}");
        }

        Console.WriteLine($"dispatched {stats.Dispatched} calls in {stats.Batches} grain messages in {clock.Elapsed.TotalSeconds:0.0} s; per silo: "
            + string.Join(", ", stats.Nodes.Select(static n => $"{n.SiloName ?? n.Node} {n.Succeeded} results{(n.IsActive ? "" : " (dead)")}")));
        Console.WriteLine($"executors at the end: {placedAtEnd}");
        bool ok = lost == 0 && duplicated == 0 && (killAfter == 0 || killed is not null || stop.Signal is not null);
        return stop.Signal is not null ? stop.ExitCode : ok ? 0 : 1;
    }

    private static string PerSilo(ClusterExecutors<SleepRequest, SleepResult> executors) =>
        string.Join(", ", executors.Placements
            .Where(static p => p.State == ExecutorState.Running)
            .GroupBy(static p => p.SiloName ?? p.Node ?? "?")
            .OrderBy(static g => g.Key, StringComparer.Ordinal)
            .Select(static g => $"{g.Key} {g.Count()}"));

    /// <summary>Once <paramref name="after"/> results are in, kill -9 the silo (other than silo 0) running the most executors.</summary>
    private static async Task<(string Silo, int Pid, int InFlight)?> KillOneSiloAsync(
        Parallelize<SleepRequest, SleepResult> pool,
        ClusterExecutors<SleepRequest, SleepResult> executors,
        int after,
        int calls,
        CancellationToken cancellationToken)
    {
        while (pool.Results.Count < after)
        {
            if (pool.Results.Count + pool.Failures.Count >= calls || cancellationToken.IsCancellationRequested)
            {
                return null;
            }

            await Task.Delay(10, CancellationToken.None);
        }

        IGrouping<(string? SiloName, int ProcessId), ExecutorPlacement>? victim = executors.Placements
            .Where(static p => p.State == ExecutorState.Running && p.SiloName != Endpoints.SiloName(0) && p.ProcessId > 0)
            .GroupBy(static p => (p.SiloName, p.ProcessId))
            .MaxBy(static g => g.Count());
        if (victim is null)
        {
            return null;
        }

        using Process kill = Process.Start("kill", ["-9", victim.Key.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("Could not run kill.");
        await kill.WaitForExitAsync(CancellationToken.None);
        Console.WriteLine($"kill -9 {victim.Key.SiloName} (pid {victim.Key.ProcessId}) after {pool.Results.Count} results, {victim.Count()} executor(s) on it");
        return (victim.Key.SiloName ?? "?", victim.Key.ProcessId, victim.Count());
    }

    private static async Task ReportAsync(Parallelize<SleepRequest, SleepResult> pool, ClusterExecutors<SleepRequest, SleepResult> executors, int calls, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(1000, cancellationToken);
                ParallelizeProgress progress = pool.GetProgress();
                Console.WriteLine($"  {progress.Succeeded}/{calls} results, {progress.Running} running, {progress.Retried} retried; executors {PerSilo(executors)}");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
