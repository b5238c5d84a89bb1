using System.Collections.Concurrent;
using Parallelize.Tests.Support;
using Parallelize.Tests.Telemetry;

namespace Parallelize.Tests.Chaos;

/// <summary>
/// The fault model's matrix, beside the fault matrix: faults as real jobs have them — tied to the input (a bad row fails
/// on every executor), to the executor (one broken, one whose factory fails), to time (an outage of the service behind
/// the executors) — with the default options. Each case checks conservation and where each input must end.
/// </summary>
public sealed class FaultModelMatrixTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task InputTied_SparseBadRows_FailOnEveryExecutorAndNoExecutorIsRestartedOrRetired()
    {
        // MaxRestarts = 0: a single fault counted against an executor would retire it.
        var options = new ParallelizeOptions { MaxRestarts = 0 };
        using var pool = new Parallelize<int, int>(Executors(4, (executor, x) => x % 100 == 7 ? throw new InvalidDataException($"row {x} malformed (executor {executor})") : x), options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 2_000; i++)
        {
            ledger.Invoke(pool, i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        int[] bad = [.. Enumerable.Range(0, 2_000).Where(x => x % 100 == 7)];
        Assert.Equal(bad, pool.Failures.Select(f => f.Input).Order());
        Assert.All(pool.Failures, f =>
        {
            Assert.True(f.Attempts >= 3, $"{f.Input} was tried {f.Attempts} times");
            Assert.True(FailedOn(f).Count >= 2, $"{f.Input} failed only on {string.Join(", ", FailedOn(f))}");
        });
        Assert.Equal(Enumerable.Range(0, 2_000).Except(bad), pool.Results.Order());
        Assert.Equal(0, pool.Restarts);
        Assert.Equal(0, pool.GetProgress().RetiredExecutors);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task InputTied_ClusteredBadRows_FailAloneAndTheRestOfTheRunCarriesOn()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };
        static bool IsBad(int x) => x is >= 200 and < 230;
        using var pool = new Parallelize<int, int>(Executors(4, (executor, x) => IsBad(x) ? throw new InvalidDataException($"row {x} malformed") : x), options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 1_000; i++)
        {
            ledger.Invoke(pool, i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(Enumerable.Range(200, 30), pool.Failures.Select(f => f.Input).Order());
        Assert.Equal(Enumerable.Range(0, 1_000).Where(x => !IsBad(x)), pool.Results.Order());
        Assert.Equal(0, pool.GetProgress().RetiredExecutors);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task InputTied_BadRowsAtTheTail_EndInFailuresWithinTheOutageBoundAndWaitReturns()
    {
        // Rows that fail at the end of a file look like an outage (every recent call fails): the pool pauses, finds no
        // call that succeeds, gives up after MaxDuration and lets them fail.
        var clock = new ManualTimeProvider();
        var options = new ParallelizeOptions { TimeProvider = clock };
        using var pool = new Parallelize<int, int>(Executors(2, (executor, x) => x >= 100 ? throw new InvalidDataException($"row {x} malformed") : x), options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 130; i++)
        {
            ledger.Invoke(pool, i);
        }

        TimeSpan took = await ClockDriver.AdvanceUntilAsync(clock, pool.WaitAsync(), TimeSpan.FromMilliseconds(50));

        Assert.Equal(Enumerable.Range(100, 30), pool.Failures.Select(f => f.Input).Order());
        Assert.Equal(Enumerable.Range(0, 100), pool.Results.Order());
        Assert.True(took <= options.Outages!.MaxDuration + TimeSpan.FromSeconds(10), $"the failures took {took} of clock time");
        Assert.False(pool.GetProgress().IsFaulted);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task InputTied_EveryCallOfEveryExecutorThrows_InputsEndInFailuresWithTheirExceptionsAndThePoolDoesNotFault()
    {
        var clock = new ManualTimeProvider();
        var options = new ParallelizeOptions { TimeProvider = clock };
        using var pool = new Parallelize<int, int>(Executors(4, (executor, x) => throw new InvalidOperationException($"executor {executor} fails {x}")), options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 50; i++)
        {
            ledger.Invoke(pool, i);
        }

        TimeSpan took = await ClockDriver.AdvanceUntilAsync(clock, pool.WaitAsync(), TimeSpan.FromMilliseconds(50));

        Assert.Equal(Enumerable.Range(0, 50), pool.Failures.Select(f => f.Input).Order());
        Assert.All(pool.Failures, f => Assert.Equal(f.Attempts, f.Exceptions.Count));
        Assert.All(pool.Failures, f => Assert.True(f.Attempts >= options.MaxAttempts));
        Assert.Empty(pool.Results);
        Assert.False(pool.GetProgress().IsFaulted);
        Assert.Equal(0, pool.GetProgress().RetiredExecutors);
        Assert.True(took <= options.Outages!.MaxDuration + TimeSpan.FromSeconds(10), $"the failures took {took} of clock time");
        IReadOnlyList<int> aborted = await pool.StopAsync();
        Assert.Empty(aborted);
        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecutorTied_OneBrokenExecutorOfFour_IsBlamedAndRetiredAndEveryInputSucceedsElsewhere()
    {
        var options = new ParallelizeOptions { MaxRestarts = 2, RestartBackoff = TimeSpan.Zero };
        using var pool = new Parallelize<int, int>(Executors(4, (executor, x) => executor == 0 ? throw new IOException("connection lost") : x), options);
        var ledger = new Ledger<int>();

        // Bursts wake every executor (each takes a fair share), so the broken one keeps getting calls until it is retired.
        int next = 0;
        DateTime deadline = DateTime.UtcNow + Timeouts.Hang;
        while (pool.GetProgress().RetiredExecutors == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The broken executor was never retired.");
            ledger.InvokeMany(pool, [.. Enumerable.Range(next, 40)]);
            next += 40;

            await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        }

        Assert.Empty(pool.Failures);
        Assert.Equal(Enumerable.Range(0, next), pool.Results.Order());
        Assert.Equal(2, pool.Restarts);
        Assert.Equal(3, pool.Executors.Count);
        await StillWorks.AssertAsync(pool, ledger, next, next + 1);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecutorTied_FactoryFailsForOneExecutorOnly_ItRetiresAndTheOthersRunEverything()
    {
        var options = new ParallelizeOptions { MaxRestarts = 2, RestartBackoff = TimeSpan.Zero };
        int attempts = 0;
        Executor<int, int>[] executors =
        [
            Deferred.Create<int, int>(() =>
            {
                Interlocked.Increment(ref attempts);
                throw new IOException("cannot connect to its shard");
            }),
            (Func<int, int>)(x => x),
            (Func<int, int>)(x => x),
        ];
        using var pool = new Parallelize<int, int>(executors, options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 500; i++)
        {
            ledger.Invoke(pool, i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        await pool.GetExecutorsAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(Enumerable.Range(0, 500), pool.Results.Order());
        Assert.Empty(pool.Failures);
        Assert.Equal(3, attempts);
        Assert.Equal(1, pool.GetProgress().RetiredExecutors);
        Assert.False(pool.GetProgress().IsFaulted);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task TimeTied_TwoSecondOutage_CostsNoInputWithTheDefaultOptions()
    {
        // The service behind the executors is down from 0.3 s to 2.3 s of clock time; each call takes 10 ms of it.
        var clock = new ManualTimeProvider();
        TimeSpan downFrom = TimeSpan.FromSeconds(0.3);
        TimeSpan downTo = downFrom + TimeSpan.FromSeconds(2);
        var options = new ParallelizeOptions { TimeProvider = clock };
        using var pool = new Parallelize<int, int>(
            Enumerable.Range(0, 4).Select(_ => (Func<int, CancellationToken, ValueTask<int>>)(async (x, token) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), clock, token);
                TimeSpan now = clock.GetElapsedTime(0);
                return now >= downFrom && now < downTo ? throw new HttpRequestException("service unavailable") : x;
            })).Select(f => (Executor<int, int>)f),
            options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 400; i++)
        {
            ledger.Invoke(pool, i);
        }

        bool sawPaused = false;
        await ClockDriver.AdvanceUntilAsync(clock, pool.WaitAsync(), TimeSpan.FromMilliseconds(5), () => sawPaused |= pool.GetProgress().IsPaused);

        Assert.Empty(pool.Failures);
        Assert.Equal(Enumerable.Range(0, 400), pool.Results.Order());
        Assert.True(sawPaused, "the pool never paused");
        Assert.True(pool.GetProgress().Outages >= 1);
        Assert.Equal(0, pool.GetProgress().RetiredExecutors);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task TimeTied_PermanentOutage_EveryInputEndsInFailuresWithinTheBoundAndWaitReturns()
    {
        var clock = new ManualTimeProvider();
        var options = new ParallelizeOptions { TimeProvider = clock };
        using var pool = new Parallelize<int, int>(
            Enumerable.Range(0, 4).Select(_ => (Func<int, CancellationToken, ValueTask<int>>)(async (x, token) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), clock, token);
                throw new HttpRequestException("service unavailable");
            })).Select(f => (Executor<int, int>)f),
            options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 100; i++)
        {
            ledger.Invoke(pool, i);
        }

        TimeSpan took = await ClockDriver.AdvanceUntilAsync(clock, pool.WaitAsync(), TimeSpan.FromMilliseconds(10));

        Assert.Equal(Enumerable.Range(0, 100), pool.Failures.Select(f => f.Input).Order());
        Assert.All(pool.Failures, f => Assert.IsType<HttpRequestException>(f.Exceptions[^1]));
        Assert.True(took <= options.Outages!.MaxDuration + TimeSpan.FromSeconds(10), $"the failures took {took} of clock time");
        Assert.True(pool.GetProgress().Outages >= 1);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RetriedInput_GoesToAnotherExecutorThanTheOneItFailedOn()
    {
        // Executor 0 fails each input the first time it sees it; with every input's second attempt elsewhere, no input
        // may fail twice.
        var attemptsOn = new ConcurrentDictionary<int, ConcurrentQueue<int>>();
        var options = new ParallelizeOptions { MaxAttempts = 2, RetryDelay = TimeSpan.Zero };
        using var pool = new Parallelize<int, int>(
            Executors(3, (executor, x) =>
            {
                attemptsOn.GetOrAdd(x, _ => new()).Enqueue(executor);
                return executor == 0 ? throw new InvalidOperationException("executor 0 has a bad day") : x;
            }),
            options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 300; i++)
        {
            ledger.Invoke(pool, i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Empty(pool.Failures);
        Assert.Equal(Enumerable.Range(0, 300), pool.Results.Order());
        Assert.All(attemptsOn, pair => Assert.NotEqual(0, pair.Value.Last()));
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecutorLost_InputIsQueuedAgainWithoutUsingAnAttemptAndTheExecutorIsRestarted()
    {
        int calls = 0;
        var options = new ParallelizeOptions { MaxAttempts = 1, RestartBackoff = TimeSpan.Zero };
        using var pool = new Parallelize<int, int>(x => Interlocked.Increment(ref calls) == 1 ? throw new ExecutorLostException("connection reset") : x, count: 1, options);
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 5);

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal([5], pool.Results);
        Assert.Empty(pool.Failures);
        Assert.Equal(1, pool.Restarts);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CallTimeout_CallOverrunsIt_ItsTokenIsCancelledAndTheAttemptFailsWithTimeout()
    {
        var clock = new ManualTimeProvider();
        var started = new Arrivals();
        var options = new ParallelizeOptions { TimeProvider = clock, CallTimeout = TimeSpan.FromSeconds(1), RetryDelay = TimeSpan.Zero };
        using var pool = new Parallelize<int, int>(
            (x, token) =>
            {
                started.Arrive();
                if (started.Count == 1)
                {
                    // The first attempt hangs until its token is cancelled.
                    token.WaitHandle.WaitOne(Timeouts.Hang);
                    token.ThrowIfCancellationRequested();
                }

                return x;
            },
            count: 1,
            options);
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 3);
        await started.WaitForAsync(1);

        clock.Advance(TimeSpan.FromSeconds(1));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal([3], pool.Results);
        Assert.Equal(2, started.Count);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CallTimeout_EveryAttemptOverruns_TheInputEndsInFailuresWithTimeoutExceptions()
    {
        var clock = new ManualTimeProvider();
        var options = new ParallelizeOptions { TimeProvider = clock, CallTimeout = TimeSpan.FromSeconds(1), RetryDelay = TimeSpan.Zero, MaxAttempts = 2, Outages = null };
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            (x, token) =>
            {
                started.Arrive();
                token.WaitHandle.WaitOne(Timeouts.Hang);
                return x; // returns a result after the timeout: still an overrun
            },
            count: 1,
            options);
        pool.Invoke(9);
        for (int attempt = 1; attempt <= 2; attempt++)
        {
            await started.WaitForAsync(attempt);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Failure<int> failure = Assert.Single(pool.Failures);
        Assert.Equal(2, failure.Attempts);
        Assert.All(failure.Exceptions, e => Assert.IsType<TimeoutException>(e));
        Assert.Empty(pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ProgressHandler_StopsThePoolThatReportsToIt_FromTheFaultReport()
    {
        Parallelize<int, int>? pool = null;
        var stopped = new TaskCompletionSource<IReadOnlyList<int>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new CollectingProgress(report =>
        {
            if (report.IsFaulted && !stopped.Task.IsCompleted)
            {
                try
                {
                    stopped.TrySetResult(pool!.Stop());
                }
                catch (Exception ex)
                {
                    stopped.TrySetException(ex);
                }
            }
        });
        var tried = new Gate();
        pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() =>
            {
                tried.Pass();
                throw new IOException("cannot connect");
            })],
            new ParallelizeOptions { MaxRestarts = 0, Progress = progress, TimeProvider = new ManualTimeProvider() });
        pool.Invoke(1);
        pool.Invoke(2);
        tried.Open();

        IReadOnlyList<int> aborted = await stopped.Task.WaitAsync(Timeouts.Hang);

        Assert.Equal([1, 2], aborted);
        pool.Dispose();
    }

    /// <summary>Executors that each know their index, so a failure can say where it happened.</summary>
    private static Executor<int, int>[] Executors(int count, Func<int, int, int> run) =>
        Enumerable.Range(0, count).Select(executor => (Executor<int, int>)(Func<int, int>)(x => run(executor, x))).ToArray();

    private static HashSet<string> FailedOn(Failure<int> failure) =>
        [.. failure.Exceptions.Select(e => e.Message[(e.Message.LastIndexOf('(') + 1)..])];
}
