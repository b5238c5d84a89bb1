using System.Collections.Concurrent;
using Moq;
using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeFaultTests
{
    // Restart mechanics: every fault restarts its executor at once (the default restarts only blamed executors; see the fault-model tests).
    private static readonly ParallelizeOptions NoBackoff = new() { RestartBackoff = TimeSpan.Zero, RetryDelay = TimeSpan.Zero, RestartOnEveryFault = true };

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ExecutorThrowsWithDefaultOptions_RetriesTheInputWithoutRestartingTheOnlyExecutor()
    {
        int calls = 0;
        using var pool = new Parallelize<int, int>(
            x => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("first call fails") : x * 3,
            count: 1);
        pool.Invoke(5);

        await pool.WaitAsync();

        Assert.Equal([15], pool.Results);
        Assert.Equal(0, pool.Restarts);
        Assert.Equal(2, calls);
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ExecutorThrowsWithRestartOnEveryFault_RestartsExecutorAndRetriesInput()
    {
        int calls = 0;
        using var pool = new Parallelize<int, int>(
            x => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("first call fails") : x * 3,
            count: 1,
            NoBackoff);
        pool.Invoke(5);

        await pool.WaitAsync();

        Assert.Equal([15], pool.Results);
        Assert.Equal(1, pool.Restarts);
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ExceptionNotWorthRetrying_GoesToFailuresAfterOneAttempt()
    {
        using var pool = new Parallelize<string, int>(int.Parse, count: 2);
        pool.Invoke("1");
        pool.Invoke("x");
        pool.Invoke("3");

        await pool.WaitAsync();

        Failure<string> failure = Assert.Single(pool.Failures);
        Assert.Equal("x", failure.Input);
        Assert.Equal(1, failure.Attempts);
        Assert.IsType<FormatException>(Assert.Single(failure.Exceptions));
        Assert.Equal([1, 3], pool.Results.Order());
        Assert.Equal(0, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ShouldRetryPredicate_DecidesWhichExceptionsAreRetried()
    {
        var options = new ParallelizeOptions { RetryDelay = TimeSpan.Zero, ShouldRetry = e => e is not TimeoutException };
        using var pool = new Parallelize<int, int>(x => x == 1 ? throw new TimeoutException("no") : throw new ArgumentException("yes"), count: 1, options);
        pool.Invoke(1);
        pool.Invoke(2);

        await pool.WaitAsync();

        Assert.Equal(1, pool.Failures.Single(f => f.Input == 1).Attempts);
        Assert.Equal(3, pool.Failures.Single(f => f.Input == 2).Attempts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_FaultsSeparatedBySuccesses_NeverRetireTheExecutor()
    {
        // One restart allowed in the window, but every fault is followed by successful calls, which clear the
        // executor's restart history: ten faults in all, and the executor is never retired.
        var failedOnce = new ConcurrentDictionary<int, bool>();
        using var pool = new Parallelize<int, int>(
            x => x % 4 == 0 && failedOnce.TryAdd(x, true) ? throw new InvalidOperationException($"first try of {x}") : x,
            count: 1,
            NoBackoff with { MaxRestarts = 1 });
        for (int i = 0; i < 40; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, 40), pool.Results.Order());
        Assert.Equal(10, pool.Restarts);
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_InputFailsEveryTime_GoesToFailuresAfterMaxAttemptsAndOthersComplete()
    {
        var options = new ParallelizeOptions { MaxAttempts = 4, RetryDelay = TimeSpan.Zero };
        using var pool = new Parallelize<int, int>(
            x => x == 13 ? throw new InvalidOperationException($"bad {x}") : x,
            count: 3,
            options);
        for (int i = 10; i < 16; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Failure<int> failure = Assert.Single(pool.Failures);
        Assert.Equal(13, failure.Input);
        Assert.Equal(4, failure.Attempts);
        Assert.Equal(4, failure.Exceptions.Count);
        Assert.All(failure.Exceptions, e => Assert.Equal("bad 13", e.Message));
        Assert.Equal([10, 11, 12, 14, 15], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_DeferredExecutor_IsDisposedAndCreatedAgain()
    {
        var created = new ConcurrentQueue<Mock<IExecutor<int, int>>>();
        using var pool = new Parallelize<int, int>(
            [
                Deferred.Create(() =>
                {
                    var mock = new Mock<IExecutor<int, int>>();
                    mock.As<IDisposable>();
                    bool first = created.IsEmpty;
                    mock.Setup(e => e.Execute(It.IsAny<int>(), It.IsAny<CancellationToken>()))
                        .Returns<int, CancellationToken>((x, _) => first ? throw new InvalidOperationException("broken instance") : x);
                    created.Enqueue(mock);
                    return mock.Object;
                }),
            ],
            NoBackoff);
        pool.Invoke(1);

        await pool.WaitAsync();

        Assert.Equal([1], pool.Results);
        Assert.Equal(2, created.Count);
        created.First().As<IDisposable>().Verify(d => d.Dispose(), Times.Once);
        created.Last().As<IDisposable>().Verify(d => d.Dispose(), Times.Never);
        Assert.Same(created.Last().Object, Assert.Single(pool.Executors));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_InstanceGivenDirectly_IsKeptAndNotDisposed()
    {
        var executor = new Mock<IExecutor<int, int>>();
        Mock<IDisposable> disposable = executor.As<IDisposable>();
        executor.SetupSequence(e => e.Execute(It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .Throws(new InvalidOperationException("once"))
            .Returns(42);
        using var pool = new Parallelize<int, int>([executor.Object], NoBackoff);
        pool.Invoke(1);

        await pool.WaitAsync();

        Assert.Equal([42], pool.Results);
        Assert.Equal(1, pool.Restarts);
        disposable.Verify(d => d.Dispose(), Times.Never);
        Assert.Same(executor.Object, Assert.Single(pool.Executors));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Deferred_FactoryThrows_IsRetriedUnderTheRestartPolicy()
    {
        int attempts = 0;
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() => Interlocked.Increment(ref attempts) < 3 ? throw new IOException("connection refused") : new Echo())],
            NoBackoff);
        pool.Invoke(9);

        await pool.WaitAsync();

        Assert.Equal([9], pool.Results);
        Assert.Equal(3, attempts);
        Assert.Equal(2, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Deferred_FactoryReturnsNull_IsRetriedUnderTheRestartPolicy()
    {
        int attempts = 0;
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() => Interlocked.Increment(ref attempts) == 1 ? null! : new Echo())],
            NoBackoff);
        pool.Invoke(4);

        await pool.WaitAsync();

        Assert.Equal([4], pool.Results);
        Assert.Equal(2, attempts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Deferred_FactoryAlwaysFails_RetiresAndFaultsWithTheCause()
    {
        var options = NoBackoff with { MaxRestarts = 2 };
        int attempts = 0;
        var invoked = new Gate();
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() =>
            {
                invoked.Pass();
                Interlocked.Increment(ref attempts);
                return null!;
            })],
            options);
        pool.Invoke(1);
        invoked.Open();

        var ex = await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync());

        Assert.Equal(3, attempts);
        Assert.Contains("returned null", Assert.Single(ex.InnerExceptions).Message, StringComparison.Ordinal);
        Assert.Equal([1], await pool.StopAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_PoisonExecutor_IsBlamedRestartedThenRetiredWhileTheOthersCarryOn()
    {
        // Every input the poison executor fails succeeds on the healthy one, so each of its generations is blamed once:
        // two restarts, then the third blamed generation retires it.
        var options = new ParallelizeOptions { MaxRestarts = 2, MaxAttempts = 100, RestartBackoff = TimeSpan.Zero, RetryDelay = TimeSpan.Zero };
        var poison = new Mock<IExecutor<int, int>>();
        poison.Setup(e => e.Execute(It.IsAny<int>(), It.IsAny<CancellationToken>())).Throws(new InvalidOperationException("poison"));
        Mock<IDisposable> poisonDisposable = poison.As<IDisposable>();
        Func<int, int> healthy = x => x;
        using var pool = new Parallelize<int, int>([Executor.Create(poison.Object), healthy], options);

        // Bursts wake both executors (each takes a fair share), so the poison one keeps getting calls until it is retired.
        int invoked = 0;
        DateTime deadline = DateTime.UtcNow + Timeouts.Hang;
        while (pool.GetProgress().RetiredExecutors == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The poison executor was never retired.");
            pool.InvokeMany(Enumerable.Range(invoked, 20).ToArray());
            invoked += 20;
            await pool.WaitAsync();
        }

        await pool.WaitAsync();
        Assert.Equal(Enumerable.Range(0, invoked), pool.Results.Order());
        Assert.Empty(pool.Failures);
        Assert.Same(healthy, Assert.Single(pool.Executors));
        poisonDisposable.Verify(d => d.Dispose(), Times.Once);
        Assert.Equal(2, pool.Restarts);
        Assert.True(poison.Invocations.Count >= 3, $"The poison executor ran {poison.Invocations.Count} calls.");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task EveryExecutorCannotBeCreated_WaitThrowsAndStopReturnsTheRest()
    {
        var options = NoBackoff with { MaxRestarts = 1, MaxAttempts = 10 };
        var invoked = new Gate();
        using var pool = new Parallelize<int, int>(
            [Fail("a"), Fail("b")],
            options);
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(i);
        }

        invoked.Open();

        var ex = await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync());
        Assert.Throws<ParallelizeException>(() => pool.Wait(TimeSpan.Zero));
        Assert.Throws<ParallelizeException>(() => pool.Executors);
        var refused = Assert.Throws<ParallelizeException>(() => pool.Invoke(99));
        IReadOnlyList<int> aborted = await pool.StopAsync();

        Assert.Equal(["a", "b"], ex.InnerExceptions.Select(e => e.Message).Order());
        Assert.Equal(ex.Message, refused.Message);
        Assert.StartsWith("The pool cannot run", ex.Message, StringComparison.Ordinal);
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
        Assert.Equal(Enumerable.Range(0, 10), aborted);
        Assert.Equal(aborted, pool.Aborted);

        Executor<int, int> Fail(string message) => Deferred.Create<int, int>(() =>
        {
            invoked.Pass();
            throw new InvalidOperationException(message);
        });
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RetryException_RetriesWithoutRestartingTheExecutor()
    {
        int calls = 0;
        using var pool = new Parallelize<int, int>(
            x => Interlocked.Increment(ref calls) < 3 ? throw new RetryException("service busy") : x,
            count: 1);
        pool.Invoke(8);

        await pool.WaitAsync();

        Assert.Equal([8], pool.Results);
        Assert.Equal(0, pool.Restarts);
        Assert.Equal(3, calls);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RetryException_ForeverStillEndsInFailuresAfterMaxAttempts()
    {
        using var pool = new Parallelize<int, int>(_ => throw new RetryException(), count: 2);
        pool.Invoke(1);

        await pool.WaitAsync();

        Failure<int> failure = Assert.Single(pool.Failures);
        Assert.Equal(3, failure.Attempts);
        Assert.All(failure.Exceptions, e => Assert.IsType<RetryException>(e));
        Assert.Equal(0, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RetryException_WithInput_RetriesWithTheReplacement()
    {
        var seen = new ConcurrentQueue<string>();
        using var pool = new Parallelize<string, string>(
            x =>
            {
                seen.Enqueue(x);
                return x.StartsWith("retry:", StringComparison.Ordinal) ? x : throw RetryException.WithInput("retry:" + x);
            },
            count: 1);
        pool.Invoke("a");

        await pool.WaitAsync();

        Assert.Equal(["retry:a"], pool.Results);
        Assert.Equal(["a", "retry:a"], seen);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RetryException_WithNullReplacementForReferenceInputs_RetriesWithNull()
    {
        using var pool = new Parallelize<string?, string>(
            x => x is null ? "was null" : throw RetryException.WithInput<string?>(null),
            count: 1);
        pool.Invoke("x");

        await pool.WaitAsync();

        Assert.Equal(["was null"], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RetryException_WithInputOfWrongType_CountsAsFaultWithClearMessage()
    {
        using var pool = new Parallelize<int, int>(_ => throw RetryException.WithInput("not an int"), count: 1, NoBackoff with { MaxRestarts = 10 });
        pool.Invoke(1);

        await pool.WaitAsync();

        Failure<int> failure = Assert.Single(pool.Failures);
        var cast = Assert.IsType<InvalidCastException>(failure.Exceptions[0]);
        Assert.Contains("System.String", cast.Message, StringComparison.Ordinal);
        Assert.Contains("System.Int32", cast.Message, StringComparison.Ordinal);

        // With RestartOnEveryFault every fault restarts the executor, the last attempt's too.
        Assert.Equal(3, pool.Failures.Single().Attempts);
        Assert.Equal(3, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task OperationCanceled_ThrownOnItsOwnWithoutStop_IsAFailedAttemptNotAnAbort()
    {
        int calls = 0;
        using var pool = new Parallelize<int, int>(
            x => Interlocked.Increment(ref calls) == 1 ? throw new OperationCanceledException("timed out inside") : x,
            count: 1,
            NoBackoff);
        pool.Invoke(2);

        await pool.WaitAsync();

        Assert.Equal([2], pool.Results);
        Assert.Equal(2, calls);
        Assert.Equal(1, pool.Restarts);
        Assert.Empty(pool.Stop());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_ExecutorDisposeThrows_PoolCarriesOn()
    {
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() => new ThrowsOnceThenDisposeThrows())],
            NoBackoff);
        pool.Invoke(1);
        pool.Invoke(2);

        await pool.WaitAsync();

        Assert.Equal([1, 2], pool.Results.Order());
        Assert.True(pool.DisposeFaults >= 1);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_ConsecutiveFaults_BackOffExponentially()
    {
        var clock = new ManualTimeProvider();
        var options = new ParallelizeOptions
        {
            TimeProvider = clock,
            RestartBackoff = TimeSpan.FromMilliseconds(10),
            MaxRestartBackoff = TimeSpan.FromMilliseconds(30),
            MaxRestarts = 10,
            MaxAttempts = 5,
            RetryDelay = TimeSpan.Zero,
            RestartOnEveryFault = true,
        };
        int calls = 0;
        using var pool = new Parallelize<int, int>(x => Interlocked.Increment(ref calls) <= 4 ? throw new InvalidOperationException() : x, count: 1, options);
        pool.Invoke(1);
        pool.Invoke(2);

        for (int timer = 1; timer <= 3; timer++)
        {
            await clock.TimersCreated.WaitForAsync(timer);
            clock.Advance(TimeSpan.FromMilliseconds(30));
        }

        await pool.WaitAsync();
        Assert.Equal([10, 20, 30], clock.CreatedDueTimes.Select(t => (int)t.TotalMilliseconds));
        Assert.Equal(4, pool.Restarts);
        Assert.Equal([1, 2], pool.Results.Order());
    }

    private sealed class Echo : IExecutor<int, int>
    {
        public int Execute(int input, CancellationToken cancellationToken) => input;
    }

    private sealed class ThrowsOnceThenDisposeThrows : IExecutor<int, int>, IDisposable
    {
        private static int s_instances;
        private readonly bool _broken = Interlocked.Increment(ref s_instances) % 2 == 1;

        public int Execute(int input, CancellationToken cancellationToken) =>
            _broken ? throw new InvalidOperationException("broken instance") : input;

        public void Dispose() => throw new InvalidOperationException("Dispose fails too");
    }
}
