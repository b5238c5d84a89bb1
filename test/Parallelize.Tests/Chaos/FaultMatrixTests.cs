using System.Collections.Concurrent;
using Parallelize.Tests.Support;
using Xunit.Abstractions;

namespace Parallelize.Tests.Chaos;

/// <summary>
/// The fault matrix of issue 5, one test per case: an executor or factory that misbehaves in every way we know of.
/// After each case the pool still works where it should (new calls complete; a stopped or faulted pool refuses them
/// with a clear exception), and conservation holds: the inputs accepted are, as a multiset, exactly Results +
/// Failures + the list Stop returned. Some cases are also covered, more narrowly, elsewhere
/// (<see cref="ParallelizeFaultTests"/>, <see cref="ParallelizeStopTests"/>); this file is the complete list.
/// </summary>
public sealed class FaultMatrixTests(ITestOutputHelper output)
{
    // Every fault restarts its executor at once here, so each case exercises the restart path; the fault model's own
    // matrix (FaultModelMatrixTests) covers the default, where only blamed executors are restarted.
    private static readonly ParallelizeOptions NoBackoff = new() { RestartBackoff = TimeSpan.Zero, RetryDelay = TimeSpan.Zero, RestartOnEveryFault = true };

    [Fact]
    public void Executor_ThrowsWhileThePoolIsBuilt_TheConstructorRethrowsItAndStartsNothing()
    {
        // An executor given directly is created by the caller: if creating it throws, the pool never exists.
        IEnumerable<Executor<int, int>> executors = Enumerable.Range(0, 3).Select(i =>
            i == 2 ? throw new IOException("cannot connect") : Executor.Create<int, int>(new Echo()));

        var ex = Assert.Throws<IOException>(() => new Parallelize<int, int>(executors));

        Assert.Equal("cannot connect", ex.Message);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Factory_ThrowsOnCreation_IsRetriedUnderTheRestartPolicyAndEveryInputCompletes(bool asynchronous)
    {
        int attempts = 0;
        Executor<int, int> executor = asynchronous
            ? Deferred.Create<int, int>(async _ =>
            {
                await Task.Yield();
                return Interlocked.Increment(ref attempts) <= 2 ? throw new IOException("refused") : new AsyncEcho();
            })
            : Deferred.Create<int, int>(() => Interlocked.Increment(ref attempts) <= 2 ? throw new IOException("refused") : new Echo());
        using var pool = new Parallelize<int, int>([executor], NoBackoff);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 10; i++)
        {
            ledger.Invoke(pool, i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(3, attempts);
        Assert.Equal(2, pool.Restarts);
        Assert.Empty(pool.Failures);
        await StillWorks.AssertAsync(pool, ledger, 100, 101);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Factory_ReturnsNull_IsAFaultRetriedUnderTheRestartPolicy(bool asynchronous)
    {
        int attempts = 0;
        Executor<int, int> executor = asynchronous
            ? Deferred.Create<int, int>(_ => ValueTask.FromResult<IAsyncExecutor<int, int>>(Interlocked.Increment(ref attempts) == 1 ? null! : new AsyncEcho()))
            : Deferred.Create<int, int>(() => Interlocked.Increment(ref attempts) == 1 ? null! : new Echo());
        using var pool = new Parallelize<int, int>([executor], NoBackoff);
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 1);

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(2, attempts);
        Assert.Equal(1, pool.Restarts);
        await StillWorks.AssertAsync(pool, ledger, 2);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executor_ThrowsOnACall_IsRestartedAndTheInputRetriedOnAFreshInstance()
    {
        var instances = new ConcurrentQueue<Tracked>();
        var disposed = new Arrivals();
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() =>
            {
                bool first = instances.IsEmpty;
                var instance = new Tracked((x, _) => first && x == 3 ? throw new InvalidOperationException("broken instance") : x, disposed);
                instances.Enqueue(instance);
                return instance;
            })],
            NoBackoff);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 6; i++)
        {
            ledger.Invoke(pool, i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal([0, 1, 2, 3, 4, 5], pool.Results.Order());
        Assert.Equal(1, pool.Restarts);
        Assert.Equal(2, instances.Count);
        Assert.Equal(1, disposed.Count); // the broken instance, when it was replaced
        await StillWorks.AssertAsync(pool, ledger, 6);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executor_ThrowsOnEveryCall_IsBlamedRestartedAndRetiredWhileTheOthersCarryOn()
    {
        // Default fault model: each input the poison executor fails succeeds on a healthy one, which blames the poison
        // executor's generation; two blamed generations restart it (re-created), the third retires it.
        var options = new ParallelizeOptions { RestartBackoff = TimeSpan.Zero, RetryDelay = TimeSpan.Zero, MaxRestarts = 2, MaxAttempts = 100 };
        var poisonDisposed = new Arrivals();
        int poisonCalls = 0;
        Executor<int, int> poison = Deferred.Create<int, int>(() => new Tracked(
            (_, _) =>
            {
                Interlocked.Increment(ref poisonCalls);
                throw new InvalidOperationException("poison executor");
            },
            poisonDisposed));
        Func<int, int> healthy = x => x;
        using var pool = new Parallelize<int, int>([poison, healthy, healthy], options);
        var ledger = new Ledger<int>();

        // Bursts wake every executor (each takes a fair share), so the poison one keeps getting calls until it is retired.
        int next = 0;
        DateTime deadline = DateTime.UtcNow + Timeouts.Hang;
        while (pool.GetProgress().RetiredExecutors == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The poison executor was never retired.");
            ledger.InvokeMany(pool, [.. Enumerable.Range(next, 30)]);
            next += 30;

            await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        }

        await poisonDisposed.WaitForAsync(3); // three instances: the first and two restarts, each disposed
        Assert.True(poisonCalls >= 3, $"The poison executor ran {poisonCalls} calls.");
        Assert.Equal(2, pool.Restarts);
        Assert.Equal(Enumerable.Range(0, next), pool.Results.Order());
        Assert.Empty(pool.Failures);
        Assert.Equal(2, pool.Executors.Count);
        await StillWorks.AssertAsync(pool, ledger, next, next + 1, next + 2);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Input_ThrowsEveryTime_EndsInFailuresAfterMaxAttemptsAndNeverLoops()
    {
        var options = NoBackoff with { MaxAttempts = 4 };
        var attemptsOf13 = 0;
        using var pool = new Parallelize<int, int>(
            x => x == 13 && Interlocked.Increment(ref attemptsOf13) > 0 ? throw new InvalidDataException($"bad {x}") : x,
            count: 2,
            options);
        var ledger = new Ledger<int>();
        for (int i = 10; i < 16; i++)
        {
            ledger.Invoke(pool, i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Failure<int> failure = Assert.Single(pool.Failures);
        Assert.Equal((13, 4, 4), (failure.Input, failure.Attempts, failure.Exceptions.Count));
        Assert.Equal(4, attemptsOf13);

        // Called again, the same input gets fresh attempts and fails again: an input's second call is a new call.
        ledger.Invoke(pool, 13);
        await StillWorks.AssertAsync(pool, ledger, 20);
        Assert.Equal(2, pool.Failures.Count);
        Assert.Equal(8, attemptsOf13);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executor_ThrowsFromDispose_IsSwallowedWhenReplacedAndWhenThePoolStops()
    {
        int created = 0;
        var disposeCalls = new Arrivals();
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() =>
            {
                bool broken = Interlocked.Increment(ref created) == 1;
                return new Tracked(
                    (x, _) => broken ? throw new InvalidOperationException("broken instance") : x,
                    disposeCalls,
                    throwOnDispose: true);
            })],
            NoBackoff);
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 1);
        ledger.Invoke(pool, 2);

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(1, disposeCalls.Count); // the broken instance threw from Dispose when it was replaced
        await StillWorks.AssertAsync(pool, ledger, 3);
        IReadOnlyList<int> aborted = await pool.StopAsync();
        Assert.Equal(2, disposeCalls.Count); // the last one threw from Dispose when the pool stopped; Stop returned
        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executor_ThrowsOperationCanceledOnItsOwn_IsAFaultNotAnAbort()
    {
        // With one attempt, a fault sends the input to Failures; an abort would have put it in Stop's list.
        var options = NoBackoff with { MaxAttempts = 1 };
        using var pool = new Parallelize<int, int>(
            (x, token) =>
            {
                if (x == 5)
                {
                    using var ownTimeout = new CancellationTokenSource();
                    ownTimeout.Cancel();
                    ownTimeout.Token.ThrowIfCancellationRequested(); // its own timeout, not the pool's token
                }

                return x;
            },
            count: 1,
            options);
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 5);
        ledger.Invoke(pool, 6);

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Failure<int> failure = Assert.Single(pool.Failures);
        Assert.Equal(5, failure.Input);
        Assert.IsType<OperationCanceledException>(Assert.Single(failure.Exceptions));
        Assert.Equal(1, pool.Restarts);
        await StillWorks.AssertAsync(pool, ledger, 7);
        IReadOnlyList<int> aborted = await pool.StopAsync();
        Assert.Empty(aborted);
        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executor_HangsIgnoringItsToken_StopReturnsAtTheFinishTimeoutAbortsItAndDiscardsItsLateResult()
    {
        var clock = new ManualTimeProvider();
        var release = new Gate();
        var hungStarted = new Arrivals();
        var disposed = new Arrivals();
        CancellationToken seen = default;
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() => new Tracked(
                (x, token) =>
                {
                    if (x == 1)
                    {
                        seen = token;
                        hungStarted.Arrive();
                        release.Pass(); // ignores its token
                    }

                    return x;
                },
                disposed))],
            new ParallelizeOptions { TimeProvider = clock });
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 0);
        await Timeouts.Until(() => pool.Results.Count == 1, "the first call completes");
        ledger.Invoke(pool, 1);
        await hungStarted.WaitForAsync(1);
        ledger.Invoke(pool, 2);
        ledger.Invoke(pool, 3);

        Task<IReadOnlyList<int>> stopping = Task.Run(() => pool.Stop(TimeSpan.FromSeconds(5)));
        await clock.TimersCreated.WaitForAsync(1); // Stop is waiting for the call in flight, until the deadline
        Assert.False(stopping.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(5));
        IReadOnlyList<int> aborted = await stopping.WaitAsync(Timeouts.Hang);

        Assert.Equal([1, 2, 3], aborted);
        Assert.True(seen.IsCancellationRequested);
        release.Open(); // the hung call returns 1 late; its executor is disposed once it has
        await disposed.WaitForAsync(1);
        Assert.Equal([0], pool.Results);
        Assert.Empty(pool.Failures);
        StillWorks.AssertRefuses(pool, 4);
        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executor_FinishesJustAsStopIsCalled_IsCountedOnceInResultsOrAbortedNeverBoth()
    {
        const int Repeats = 200;
        int inResults = 0;
        int aborted = 0;
        for (int round = 0; round < Repeats; round++)
        {
            var release = new Gate();
            var started = new Arrivals();
            var disposed = new Arrivals();
            using var pool = new Parallelize<int, int>(
                [Deferred.Create<int, int>(() => new Tracked(
                    (x, _) =>
                    {
                        started.Arrive();
                        release.Pass();
                        return x;
                    },
                    disposed))]);
            var ledger = new Ledger<int>();
            ledger.Invoke(pool, 1);
            ledger.Invoke(pool, 2);
            await started.WaitForAsync(1);

            // Release the call and stop with no finish time at the same moment: either may win, never both.
            using var go = new Barrier(2);
            Task finish = Task.Factory.StartNew(
                () =>
                {
                    go.SignalAndWait();
                    release.Open();
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            IReadOnlyList<int> stopped = await Task.Factory.StartNew(
                () =>
                {
                    go.SignalAndWait();
                    return pool.Stop(TimeSpan.Zero);
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            await finish;
            await disposed.WaitForAsync(1); // the worker is done: a late result would have been recorded by now

            Conservation.AssertHolds(ledger.Accepted, pool, stopped);
            inResults += pool.Results.Contains(1) ? 1 : 0;
            aborted += stopped.Contains(1) ? 1 : 0;
        }

        Assert.Equal(Repeats, inResults + aborted);
        output.WriteLine($"the racing call finished into Results {inResults} times and was aborted {aborted} times");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executor_InvokesItsOwnPool_TheCallsCompleteAndWaitCoversThem()
    {
        var ledger = new Ledger<int>();
        Parallelize<int, int>? self = null;
        using var pool = new Parallelize<int, int>(
            x =>
            {
                if (x > 0)
                {
                    ledger.Invoke(self!, x - 1); // a follow-up call, queued from inside
                }

                return x;
            },
            count: 3);
        self = pool;
        ledger.Invoke(pool, 20);

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(Enumerable.Range(0, 21), pool.Results.Order());
        await StillWorks.AssertAsync(pool, ledger, 2);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData("Wait")]
    [InlineData("Wait(TimeSpan)")]
    [InlineData("WaitAsync")]
    [InlineData("Stop")]
    [InlineData("StopAsync")]
    public async Task Executor_WaitsOrStopsItsOwnPool_GetsInvalidOperationAndThePoolCarriesOn(string operation)
    {
        var refusals = new ConcurrentQueue<InvalidOperationException>();
        Parallelize<int, int>? self = null;
        using var pool = new Parallelize<int, int>(
            x =>
            {
                try
                {
                    Action call = operation switch
                    {
                        "Wait" => () => self!.Wait(),
                        "Wait(TimeSpan)" => () => self!.Wait(TimeSpan.FromSeconds(1)),
                        "WaitAsync" => () => self!.WaitAsync().GetAwaiter().GetResult(),
                        "Stop" => () => self!.Stop(),
                        _ => () => self!.StopAsync().GetAwaiter().GetResult(),
                    };
                    call();
                }
                catch (InvalidOperationException ex)
                {
                    refusals.Enqueue(ex);
                }

                return x;
            },
            count: 2);
        self = pool;
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 1);

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        InvalidOperationException refusal = Assert.Single(refusals);
        Assert.StartsWith(operation.Split('(')[0], refusal.Message, StringComparison.Ordinal);
        Assert.Contains("deadlock", refusal.Message, StringComparison.Ordinal);
        await StillWorks.AssertAsync(pool, ledger, 2);
        Conservation.AssertHolds(ledger.Accepted, pool, await pool.StopAsync());
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData("Dispose")]
    [InlineData("DisposeAsync")]
    public async Task Executor_DisposesItsOwnPool_ReturnsAtOnceAndThePoolFinishesItsWorkThenStops(string operation)
    {
        var disposed = new Gate();
        Parallelize<int, int>? self = null;
        var pool = new Parallelize<int, int>(
            x =>
            {
                if (x == 0)
                {
                    if (operation == "Dispose")
                    {
                        self!.Dispose();
                    }
                    else
                    {
                        self!.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    }

                    disposed.Open();
                }

                return x;
            },
            count: 2);
        self = pool;
        var ledger = new Ledger<int>();
        for (int i = 0; i < 20; i++)
        {
            ledger.Invoke(pool, i);
        }

        await disposed.PassAsync().WaitAsync(Timeouts.Hang);
        Assert.Throws<ObjectDisposedException>(() => pool.Invoke(99));
        await Timeouts.Until(() => pool.GetProgress().IsStopped, "the pool stopped in the background");

        Assert.Equal(Enumerable.Range(0, 20), pool.Results.Order());
        Assert.Empty(pool.Aborted);
        Conservation.AssertHolds(ledger.Accepted, pool, pool.Aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task EveryExecutorRetired_WaitThrowsParallelizeExceptionAndStopReturnsTheRest()
    {
        // Executors that lose their connection are blamed at once (the inputs are not): each is restarted, then retired.
        var options = NoBackoff with { MaxRestarts = 1, MaxAttempts = 10 };
        var queued = new Gate();
        Func<int, int> Fail(string message) => _ =>
        {
            queued.Pass();
            throw new ExecutorLostException(message);
        };
        using var pool = new Parallelize<int, int>([Fail("a"), Fail("b")], options);
        var ledger = new Ledger<int>();
        for (int i = 0; i < 10; i++)
        {
            ledger.Invoke(pool, i);
        }

        queued.Open();

        var fault = await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync().WaitAsync(Timeouts.Hang));
        Assert.Throws<ParallelizeException>(pool.Wait);
        Assert.Equal(["a", "b"], fault.InnerExceptions.Select(e => e.Message).Order());
        StillWorks.AssertRefuses(pool, 99);
        IReadOnlyList<int> aborted = await pool.StopAsync();
        Assert.Equal(Enumerable.Range(0, 10), aborted);
        Assert.Empty(pool.Failures);
        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_RacingWaitFromManyThreads_EveryWaitReturnsAndEveryInputEndsOnce()
    {
        for (int round = 0; round < 30; round++)
        {
            var release = new Gate();
            var disposed = new Arrivals();
            using var pool = new Parallelize<int, int>(
                Enumerable.Range(0, 4).Select(_ => Deferred.Create<int, int>(() => new Tracked(
                    (x, _) =>
                    {
                        release.Pass();
                        return x;
                    },
                    disposed))));
            await pool.GetExecutorsAsync(); // all four exist, so all four are disposed in the end
            var ledger = new Ledger<int>();
            for (int i = 0; i < 40; i++)
            {
                ledger.Invoke(pool, i);
            }

            using var go = new Barrier(6);
            Task[] waiters = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
                () =>
                {
                    go.SignalAndWait();
                    pool.Wait();
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)).ToArray();
            Task opener = Task.Run(() =>
            {
                go.SignalAndWait();
                release.Open();
            });
            go.SignalAndWait();
            IReadOnlyList<int> aborted = pool.Stop(TimeSpan.Zero);

            await Task.WhenAll(waiters).WaitAsync(Timeouts.Hang);
            await opener;
            await disposed.WaitForAsync(4);
            StillWorks.AssertRefuses(pool, 100);
            Conservation.AssertHolds(ledger.Accepted, pool, aborted);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_RacingDispose_BothReturnAndEveryInputEndsOnce()
    {
        for (int round = 0; round < 30; round++)
        {
            var pool = new Parallelize<int, int>(x => x, count: 4);
            var ledger = new Ledger<int>();
            for (int i = 0; i < 500; i++)
            {
                ledger.Invoke(pool, i);
            }

            using var go = new Barrier(2);
            Task disposing = Task.Factory.StartNew(
                () =>
                {
                    go.SignalAndWait();
                    pool.Dispose();
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            go.SignalAndWait();
            IReadOnlyList<int> aborted = pool.Stop();
            await disposing.WaitAsync(Timeouts.Hang);

            Assert.ThrowsAny<InvalidOperationException>(() => pool.Invoke(1000)); // ObjectDisposedException once disposed
            Conservation.AssertHolds(ledger.Accepted, pool, aborted);
        }
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData("Stop")]
    [InlineData("Dispose")]
    public async Task Invoke_FromManyThreadsRacingStopOrDispose_EveryAcceptedInputEndsOnceAndTheRestAreRefused(string ending)
    {
        const int Producers = 8;
        const int PerProducer = 2_000;
        using var pool = new Parallelize<int, int>(x => x, count: 4);
        var ledger = new Ledger<int>();
        var refused = new ConcurrentQueue<Exception>();
        using var go = new Barrier(Producers + 1);
        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Factory.StartNew(
            () =>
            {
                go.SignalAndWait();
                for (int i = 0; i < PerProducer; i++)
                {
                    try
                    {
                        ledger.Invoke(pool, (p * PerProducer) + i);
                    }
                    catch (InvalidOperationException ex)
                    {
                        refused.Enqueue(ex);
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        go.SignalAndWait();
        await Timeouts.Until(() => ledger.Accepted.Count >= PerProducer, "some calls are accepted");

        IReadOnlyList<int> aborted = [];
        if (ending == "Stop")
        {
            aborted = pool.Stop();
        }
        else
        {
            pool.Dispose();
        }

        await Task.WhenAll(producers).WaitAsync(Timeouts.Hang);

        Assert.Equal(Producers * PerProducer, ledger.Accepted.Count + refused.Count);
        Assert.All(refused, ex => Assert.IsType(ending == "Stop" ? typeof(InvalidOperationException) : typeof(ObjectDisposedException), ex));
        if (ending == "Dispose")
        {
            Assert.Equal(ledger.Accepted.Count, pool.Results.Count); // Dispose waits for every accepted call
        }

        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    private sealed class Echo : IExecutor<int, int>
    {
        public int Execute(int input, CancellationToken cancellationToken) => input;
    }

    private sealed class AsyncEcho : IAsyncExecutor<int, int>
    {
        public ValueTask<int> ExecuteAsync(int input, CancellationToken cancellationToken) => ValueTask.FromResult(input);
    }

    /// <summary>An executor whose disposal is observable: a test awaits it to know the worker has finished its last call.</summary>
    private sealed class Tracked(Func<int, CancellationToken, int> body, Arrivals disposed, bool throwOnDispose = false) : IExecutor<int, int>, IDisposable
    {
        public int Execute(int input, CancellationToken cancellationToken) => body(input, cancellationToken);

        public void Dispose()
        {
            disposed.Arrive();
            if (throwOnDispose)
            {
                throw new InvalidOperationException("Dispose fails too");
            }
        }
    }
}
