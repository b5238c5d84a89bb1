using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Parallelize.Tests.Support;
using Xunit.Abstractions;

namespace Parallelize.Tests.Chaos;

/// <summary>
/// Chaos: many producers, 200 executors of every kind, about 1% of attempts throwing, retries with and without a
/// replacement input, poison inputs that fail on every executor, factories that fail, an outage window in which every
/// call fails for a while, and Stop at a random moment — then no input may be lost or duplicated, and the restarts
/// must match the faults. Each round runs under a deadlock watchdog that fails with
/// every thread's managed stack instead of timing out silently.
/// </summary>
/// <remarks>
/// The default test run does a small version (5 rounds of 20,000 calls). The full one does 10 rounds of 1,000,000:
/// <c>PARALLELIZE_CHAOS=full dotnet test Parallelize.sln -c Release --filter Category=Chaos</c>. The seed is printed;
/// <c>PARALLELIZE_CHAOS_SEED=N</c> replays its choices (the thread interleaving is the machine's).
/// </remarks>
[Trait("Category", "Chaos")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int Executors = 200;
    private const int Producers = 8;
    private const long IdMask = 0xFFFF_FFFF;
    private const int PoisonEvery = 50_000;
    private const int PoisonAt = 7;

    private static readonly bool Full = string.Equals(Environment.GetEnvironmentVariable("PARALLELIZE_CHAOS"), "full", StringComparison.OrdinalIgnoreCase);

    [Fact(Timeout = 3_600_000)]
    public async Task Chaos_200ExecutorsRandomFaultsRestartsAndStop_NoInputLostOrDuplicatedAndRestartsMatchFaults()
    {
        int rounds = Full ? 10 : 5;
        int calls = Full ? 1_000_000 : 20_000;
        TimeSpan limit = Full ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(2);
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PARALLELIZE_CHAOS_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int given)
            ? given
            : Full ? Random.Shared.Next() : 20261124;
        output.WriteLine($"chaos seed {seed} (PARALLELIZE_CHAOS_SEED={seed} replays its choices): {rounds} rounds of {calls} calls, {Executors} executors, {Producers} producers");

        var random = new Random(seed);
        var total = default(RoundReport);
        for (int round = 0; round < rounds; round++)
        {
            // The first round runs to completion, where restarts must equal faults exactly; the others stop.
            int roundSeed = random.Next();
            int stopAfter = round == 0 ? -1 : random.Next(1, calls);
            RoundReport report = default;
            await DeadlockWatchdog.RunAsync(
                $"chaos round {round} (seed {seed}, round seed {roundSeed})",
                limit,
                async () => report = await RunRoundAsync(roundSeed, calls, stopAfter),
                output.WriteLine);
            output.WriteLine($"round {round}: {report}");
            total += report;
        }

        output.WriteLine($"total: {total}");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Watchdog_RunHangs_FailsWithEveryThreadsManagedStackIncludingTheHungFrames()
    {
        var gate = new Gate();
        using var pool = new Parallelize<int, int>(x => HeldOnPurposeByTheWatchdogTest(gate, x), count: 1);
        pool.Invoke(1);

        // The body can never finish before the gate opens, so the watchdog must fire, however slow the machine.
        var hung = await Assert.ThrowsAsync<TimeoutException>(() => DeadlockWatchdog.RunAsync(
            "a deliberately hung Wait",
            TimeSpan.FromMilliseconds(200),
            () =>
            {
                pool.Wait();
                return Task.CompletedTask;
            },
            output.WriteLine));
        gate.Open();
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Contains("a deliberately hung Wait did not finish", hung.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(HeldOnPurposeByTheWatchdogTest), hung.Message, StringComparison.Ordinal); // the executor's thread
        Assert.Matches(@"Parallelize`2\[.*\]\.Wait\(", hung.Message); // the thread blocked in Wait
        Assert.Equal([1], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Watchdog_RunFinishesInTime_ReturnsItsOutcome()
    {
        int ran = 0;
        await DeadlockWatchdog.RunAsync("a quick run", Timeouts.Hang, () => Task.FromResult(Interlocked.Increment(ref ran)), output.WriteLine);
        await Assert.ThrowsAsync<ArithmeticException>(() => DeadlockWatchdog.RunAsync("a failing run", Timeouts.Hang, () => throw new ArithmeticException(), output.WriteLine));

        Assert.Equal(1, ran);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int HeldOnPurposeByTheWatchdogTest(Gate gate, int input)
    {
        gate.Pass();
        return input;
    }

    private static async Task<RoundReport> RunRoundAsync(int seed, int calls, int stopAfter)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(seed);
        var faults = new FaultCounter();
        var options = new ParallelizeOptions
        {
            // Never retire, and restart at every fault: every fault before Stop must become a restart. Short backoffs
            // and retry delays still exercise the timers; the outage detector pauses the pool through the outage.
            MaxRestarts = int.MaxValue,
            RestartOnEveryFault = true,
            RestartBackoff = TimeSpan.FromMilliseconds(1),
            MaxRestartBackoff = TimeSpan.FromMilliseconds(4),
            RetryDelay = random.Next(2) == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(1),
            MaxRetryDelay = TimeSpan.FromMilliseconds(4),
            Outages = new OutageOptions { ProbeDelay = TimeSpan.FromMilliseconds(5), MaxProbeDelay = TimeSpan.FromMilliseconds(20) },
            BoundedCapacity = random.Next(3) == 0 ? random.Next(64, 4096) : null,
        };
        TimeSpan? finishTimeout = random.Next(3) switch
        {
            0 => null,
            1 => TimeSpan.Zero,
            _ => TimeSpan.FromMilliseconds(random.Next(1, 20)),
        };

        var sources = new List<Executor<long, long>>(Executors);
        for (int i = 0; i < Executors; i++)
        {
            int executorSeed = HashCode.Combine(seed, i);
            sources.Add((i % 4) switch
            {
                0 => (Func<long, long>)new ChaosWork(executorSeed, faults).Run,
                1 => (Func<long, CancellationToken, ValueTask<long>>)new ChaosWork(executorSeed, faults).RunAsync,
                2 => Deferred.Create<long, long>(() => faults.Create(executorSeed, static work => new SyncChaosExecutor(work))),
                _ => Deferred.Create<long, long>(async _ =>
                {
                    await Task.Yield();
                    return faults.Create(executorSeed, static work => new AsyncChaosExecutor(work));
                }),
            });
        }

        var pool = new Parallelize<long, long>(sources, options);
        var accepted = new bool[calls];
        int acceptedCount = 0;
        using var start = new Barrier(Producers + 1);
        using var stopNow = new ManualResetEventSlim();
        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (int id = p; id < calls; id += Producers)
                {
                    try
                    {
                        pool.Invoke(id);
                    }
                    catch (InvalidOperationException) when (stopAfter >= 0)
                    {
                        return; // stopped: this and later calls were refused
                    }

                    accepted[id] = true;
                    int count = Interlocked.Increment(ref acceptedCount);
                    if (count == stopAfter)
                    {
                        stopNow.Set(); // the producer that makes the stopAfter-th call pulls the trigger
                    }

                    if (count == calls / 3)
                    {
                        faults.BeginOutage(TimeSpan.FromMilliseconds(30)); // every call fails for a while: the service is down
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        start.SignalAndWait();

        IReadOnlyList<long> aborted;
        long faultsBeforeStop;
        if (stopAfter < 0)
        {
            await Task.WhenAll(producers);
            await pool.WaitAsync();

            // Wait returns when the last call is recorded; the worker that faulted last may still be restarting.
            await Timeouts.Until(() => pool.Restarts == faults.Count, $"restarts ({pool.Restarts}) catch up with faults ({faults.Count})");
            faultsBeforeStop = faults.Count;
            aborted = await pool.StopAsync(finishTimeout);
            Assert.Empty(aborted);
        }
        else
        {
            // A Wait that races the Stop must return once the pool has stopped.
            Task waiter = Task.Factory.StartNew(pool.Wait, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            // The stopper blocks on its own thread, so Stop starts the moment the trigger is pulled, mid-run.
            bool synchronous = random.Next(2) == 0;
            long before = 0;
            aborted = await await Task.Factory.StartNew(
                () =>
                {
                    stopNow.Wait();
                    before = faults.Count;
                    return synchronous ? Task.FromResult(pool.Stop(finishTimeout)) : pool.StopAsync(finishTimeout);
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            faultsBeforeStop = before;
            await Task.WhenAll(producers);
            await waiter;
        }

        // Conservation: each accepted id ends exactly once (retries may have replaced its input with a new version).
        var seen = new int[calls];
        long[] results = [.. pool.Results];
        Failure<long>[] failures = [.. pool.Failures];
        foreach (long output in results)
        {
            seen[output & IdMask]++;
        }

        foreach (Failure<long> failure in failures)
        {
            // Attempts an outage made fail are given back, so an input may have been tried more often.
            Assert.True(failure.Attempts >= options.MaxAttempts, $"a failure after {failure.Attempts} attempts");
            seen[failure.Input & IdMask]++;
        }

        foreach (long input in aborted)
        {
            seen[input & IdMask]++;
        }

        long lost = 0;
        long duplicated = 0;
        for (int id = 0; id < calls; id++)
        {
            int expected = accepted[id] ? 1 : 0;
            lost += Math.Max(0, expected - seen[id]);
            duplicated += Math.Max(0, seen[id] - expected);
            if (accepted[id] && id % PoisonEvery == PoisonAt && !aborted.Any(input => (input & IdMask) == id))
            {
                Assert.Contains(failures, failure => (failure.Input & IdMask) == id);
            }
        }

        Assert.True(lost == 0 && duplicated == 0, $"seed {seed}: {lost} input(s) lost, {duplicated} duplicated (stop after {stopAfter}, {options})");
        Assert.Equal(acceptedCount, results.Length + failures.Length + aborted.Count);
        Assert.Equal(stopAfter < 0 ? calls : acceptedCount, acceptedCount);

        // Every restart answers a distinct fault, so there are never more restarts than faults. Each fault before Stop
        // began is restarted, except where Stop overtook it: at most one per executor, whose worker then ends.
        long restarts = pool.Restarts;
        Assert.True(restarts <= faults.Count, $"seed {seed}: {restarts} restarts but only {faults.Count} faults");
        Assert.True(restarts >= faultsBeforeStop - Executors, $"seed {seed}: {restarts} restarts but {faultsBeforeStop} faults before Stop began");

        // Every executor instance a factory created is disposed once, including those abandoned in a late call.
        await pool.DisposeAsync();
        await Timeouts.Until(() => faults.Disposed == faults.Created, $"every created executor ({faults.Created}) is disposed ({faults.Disposed})");
        Assert.Equal(faults.Created, faults.Disposed);

        return new RoundReport(1, calls, acceptedCount, faults.Count, restarts, results.Length, failures.Length, aborted.Count, lost, duplicated, clock.Elapsed, pool.GetProgress().Outages);
    }

    private readonly record struct RoundReport(
        int Rounds, long Calls, long Accepted, long Faults, long Restarts, long Results, long Failures, long Aborted, long Lost, long Duplicated, TimeSpan Time, long Outages)
    {
        public static RoundReport operator +(RoundReport a, RoundReport b) => new(
            a.Rounds + b.Rounds,
            a.Calls + b.Calls,
            a.Accepted + b.Accepted,
            a.Faults + b.Faults,
            a.Restarts + b.Restarts,
            a.Results + b.Results,
            a.Failures + b.Failures,
            a.Aborted + b.Aborted,
            a.Lost + b.Lost,
            a.Duplicated + b.Duplicated,
            a.Time + b.Time,
            a.Outages + b.Outages);

        public override string ToString() =>
            $"{Calls} calls, {Accepted} accepted = {Results} results + {Failures} failures + {Aborted} aborted; {Faults} faults, {Restarts} restarts, {Outages} outage pause(s); "
            + $"lost {Lost}, duplicated {Duplicated}; {Time.TotalSeconds:0.0} s";
    }

    /// <summary>Counts the faults the executors and factories threw, and the executor instances made and disposed.</summary>
    private sealed class FaultCounter
    {
        private long _count;
        private long _created;
        private long _disposed;
        private int _instances;
        private long _outageEnds;

        public long Count => Interlocked.Read(ref _count);

        public long Created => Interlocked.Read(ref _created);

        public long Disposed => Interlocked.Read(ref _disposed);

        public InvalidOperationException Fault(string what)
        {
            Interlocked.Increment(ref _count);
            return new InvalidOperationException(what);
        }

        public void OnDisposed() => Interlocked.Increment(ref _disposed);

        /// <summary>Makes every call fail for <paramref name="length"/> from now on.</summary>
        public void BeginOutage(TimeSpan length) =>
            Interlocked.Exchange(ref _outageEnds, Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency));

        /// <summary>Gets a value indicating whether the service behind the executors is down now.</summary>
        public bool InOutage => Stopwatch.GetTimestamp() < Interlocked.Read(ref _outageEnds);

        /// <summary>A factory: fails about 1% of the time, as a connection or a model load might.</summary>
        public T Create<T>(int seed, Func<ChaosWork, T> wrap)
        {
            var work = new ChaosWork(HashCode.Combine(seed, Interlocked.Increment(ref _instances)), this);
            if (work.Roll() < 100)
            {
                throw Fault("factory failed");
            }

            Interlocked.Increment(ref _created);
            return wrap(work);
        }
    }

    /// <summary>One executor's behaviour: its own random stream decides each attempt's fate.</summary>
    private sealed class ChaosWork(int seed, FaultCounter faults)
    {
        // One executor runs one call at a time, so its random stream is never used concurrently.
        private readonly Random _random = new(seed);
        private int _versions;

        public FaultCounter Faults => faults;

        public int Roll() => _random.Next(10_000);

        public long Run(long input)
        {
            long id = input & IdMask;
            if (id % PoisonEvery == PoisonAt)
            {
                throw faults.Fault($"poison input {id}");
            }

            if (faults.InOutage)
            {
                throw faults.Fault($"service down for {id}");
            }

            int roll = Roll();
            return roll switch
            {
                < 90 => throw faults.Fault($"fault on {id}"),
                < 100 => throw CountedCancellation(),
                < 115 => throw new RetryException("busy"),
                < 125 => throw RetryException.WithInput(id | ((long)(++_versions & 0x7FFF) << 32)),
                _ => id,
            };
        }

        public async ValueTask<long> RunAsync(long input, CancellationToken cancellationToken)
        {
            if ((input & 7) == 0)
            {
                await Task.Yield();
            }

            return Run(input);
        }

        private OperationCanceledException CountedCancellation()
        {
            // Thrown on its own, not because Stop cancelled the call: a fault like any other.
            faults.Fault("counted");
            return new OperationCanceledException("timed out inside the executor");
        }
    }

    // Every Dispose is counted, so a leak and a double disposal both show as created != disposed.
    private sealed class SyncChaosExecutor(ChaosWork work) : IExecutor<long, long>, IDisposable
    {
        public long Execute(long input, CancellationToken cancellationToken) => work.Run(input);

        public void Dispose() => work.Faults.OnDisposed();
    }

    private sealed class AsyncChaosExecutor(ChaosWork work) : IAsyncExecutor<long, long>, IAsyncDisposable
    {
        public ValueTask<long> ExecuteAsync(long input, CancellationToken cancellationToken) => work.RunAsync(input, cancellationToken);

        public ValueTask DisposeAsync()
        {
            work.Faults.OnDisposed();
            return ValueTask.CompletedTask;
        }
    }
}
