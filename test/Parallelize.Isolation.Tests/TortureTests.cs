using System.Collections.Concurrent;
using System.Diagnostics;
using Parallelize.Isolation.Tests.Support;
using Parallelize.Isolation.Tests.Workers;
using Xunit.Abstractions;

namespace Parallelize.Isolation.Tests;

/// <summary>
/// The original's own test: producers push inputs while a killer sends SIGKILL to a random worker at random
/// intervals. No input may be lost or counted twice. The default run is 16 workers, 20,000 inputs and a kill about
/// every 50 ms, at most 400 of them (a busy machine restarts workers slowly, and the run would last as long as the
/// kills go on); <c>PARALLELIZE_TORTURE=long</c> runs 200 workers and 1,000,000 inputs with no limit on the kills.
/// </summary>
[Collection(nameof(TortureTests))]
public sealed class TortureTests(ITestOutputHelper output) : IsolationTest
{
    [Fact(Timeout = 30 * 60_000)]
    [Trait("Category", "Torture")]
    public async Task RandomSigkills_WhileProducersPush_NothingLostNothingDuplicated()
    {
        bool longRun = Environment.GetEnvironmentVariable("PARALLELIZE_TORTURE") == "long";
        int workerCount = longRun ? 200 : 16;
        int inputs = longRun ? 1_000_000 : 20_000;
        int maxKills = longRun ? int.MaxValue : 400;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PARALLELIZE_TORTURE_SEED"), out int s) ? s : Random.Shared.Next();
        var random = new Random(seed);
        // Source-generated codecs: a worker that needs no JSON reflection starts faster, and this test starts many.
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<ScriptedExecutor, Job, Reply>(
            workerCount,
            new IsolationOptions { Codecs = new JsonWireCodecProvider<TestJsonContext>(), StartTimeout = TimeSpan.FromMinutes(2) });
        using var pool = new Parallelize<Job, Reply>(
            workers,
            new ParallelizeOptions { MaxAttempts = 3, MaxRestarts = 1_000_000, RestartBackoff = TimeSpan.FromMilliseconds(1), MaxRestartBackoff = TimeSpan.FromMilliseconds(50) });
        var accepted = new ConcurrentQueue<Job>();
        var clock = Stopwatch.StartNew();
        _ = pool.Executors; // every worker up before the clock of the killer starts

        using var done = new CancellationTokenSource();
        int kills = 0;
        Task killer = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested && kills < maxKills)
            {
                await Task.Delay(random.Next(25, 76), CancellationToken.None);
                IReadOnlyList<int> pids = workers.GetProcessIds();
                if (pids.Count > 0 && Native.Kill(pids[random.Next(pids.Count)], 9))
                {
                    kills++;
                }
            }
        });
        Task[] producers = [.. Enumerable.Range(0, 2).Select(p => Task.Run(() =>
        {
            for (int i = p; i < inputs; i += 2)
            {
                var job = new Job(i);
                pool.Invoke(job);
                accepted.Enqueue(job);
            }
        }))];
        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromMinutes(25));
        await pool.WaitAsync().WaitAsync(TimeSpan.FromMinutes(25));
        await done.CancelAsync();
        await killer;
        clock.Stop();

        var results = pool.Results.ToArray();
        int duplicated = results.Length - results.Select(r => r.Id).Distinct().Count();
        int lost = inputs - results.Select(r => r.Id).Distinct().Count() - pool.Failures.Count;
        output.WriteLine(
            $"seed {seed}: {workerCount} workers, {inputs:N0} inputs in {clock.Elapsed.TotalSeconds:0.0} s; kills {kills}, crashes seen {workers.Crashes}, " +
            $"processes started {workers.ProcessesStarted}, restarts {pool.Restarts}; results {results.Length:N0}, failures (killed {3} times) {pool.Failures.Count}, " +
            $"lost {lost}, duplicated {duplicated}");
        AssertConserved(accepted, pool, []);
        Assert.Equal(0, lost);
        Assert.Equal(0, duplicated);
        Assert.All(pool.Failures, f => Assert.All(f.Exceptions, e => Assert.IsType<WorkerCrashedException>(e)));
        Assert.True(kills > 0, "the killer killed");
    }
}

/// <summary>The torture test runs alone: it loads the machine, and other tests' processes would slow it down.</summary>
[CollectionDefinition(nameof(TortureTests), DisableParallelization = true)]
public sealed class TortureTestsDefinition;
