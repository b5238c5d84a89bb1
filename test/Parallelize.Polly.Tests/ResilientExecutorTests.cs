using System.Collections.Concurrent;
using Polly;
using Polly.CircuitBreaker;
using Polly.Fallback;
using Polly.Retry;
using Polly.Timeout;

namespace Parallelize.Polly.Tests;

/// <summary>A Polly pipeline around each call: what it recovers, what it lets through to the pool, and that the pool's cancellation reaches it.</summary>
public sealed class ResilientExecutorTests
{
    private static readonly ParallelizeOptions OneAttempt = new() { MaxAttempts = 1, MaxRestarts = 100, RestartBackoff = TimeSpan.Zero };

    [Fact(Timeout = Timeouts.Test)]
    public async Task Retry_FlakyCall_RecoversInsideThePipelineWithoutAFaultReachingThePool()
    {
        var tries = new ConcurrentDictionary<int, int>();
        int Flaky(int input, CancellationToken cancellationToken) =>
            tries.AddOrUpdate(input, 1, static (_, n) => n + 1) <= 2 ? throw new TimeoutException($"{input} is flaky.") : input * 10;
        ResiliencePipeline retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 3, Delay = TimeSpan.Zero })
            .Build();
        using var pool = new Parallelize<int, int>(Enumerable.Range(0, 4).Select(_ => ResilientExecutor.Create<int, int>(retry, Flaky)), OneAttempt);

        for (int i = 1; i <= 50; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(Enumerable.Range(1, 50).Select(i => i * 10), pool.Results.Order());
        Assert.Empty(pool.Failures);
        Assert.Equal(0, pool.Restarts);
        Assert.All(tries.Values, count => Assert.Equal(3, count));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Timeout_CallOutlastsIt_EndsInFailuresWithTimeoutRejectedAndTheCallSawItsTokenCancelled()
    {
        var clock = new ManualTimeProvider();
        var started = new Arrivals();
        var sawCancellation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<int> Slow(int input, CancellationToken cancellationToken)
        {
            using CancellationTokenRegistration registration = cancellationToken.Register(() => sawCancellation.TrySetResult());
            started.Arrive();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return input;
        }

        ResiliencePipeline timeout = new ResiliencePipelineBuilder { TimeProvider = clock }.AddTimeout(TimeSpan.FromSeconds(5)).Build();
        using var pool = new Parallelize<int, int>([ResilientExecutor.Create<int, int>(timeout, Slow)], OneAttempt);

        pool.Invoke(1);
        await started.WaitForAsync(1);
        clock.Advance(TimeSpan.FromSeconds(5));
        await sawCancellation.Task.WaitAsync(Timeouts.Hang);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Failure<int> failure = Assert.Single(pool.Failures);
        Assert.Equal(1, failure.Input);
        Assert.IsType<TimeoutRejectedException>(failure.Exceptions[^1]);
        Assert.Empty(pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CircuitBreaker_OpensAfterFailures_LaterCallsFailFastWithoutReachingTheFunction()
    {
        int calls = 0;
        int Failing(int input, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("the service is down");
        }

        ResiliencePipeline breaker = new ResiliencePipelineBuilder { TimeProvider = new ManualTimeProvider() }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromMinutes(1),
                BreakDuration = TimeSpan.FromMinutes(1),
            })
            .Build();
        using var pool = new Parallelize<int, int>([ResilientExecutor.Create<int, int>(breaker, Failing)], OneAttempt); // one executor: calls in order

        for (int i = 1; i <= 10; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(3, calls);
        Failure<int>[] failures = [.. pool.Failures.OrderBy(failure => failure.Input)];
        Assert.Equal(Enumerable.Range(1, 10), failures.Select(failure => failure.Input));
        Assert.All(failures.Take(3), failure => Assert.IsType<InvalidOperationException>(failure.Exceptions[^1]));
        Assert.All(failures.Skip(3), failure => Assert.IsType<BrokenCircuitException>(failure.Exceptions[^1]));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_RetryWaitingItsDelay_TheStopsCancellationEndsTheDelayAndTheInputIsAborted()
    {
        var threw = new Arrivals();
        var retried = new Arrivals();
        int AlwaysThrows(int input, CancellationToken cancellationToken)
        {
            threw.Arrive();
            throw new TimeoutException("transient");
        }

        ResiliencePipeline retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = 5,
                Delay = TimeSpan.FromHours(1), // only the pool's cancellation can end this wait within the test
                OnRetry = _ =>
                {
                    retried.Arrive();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        using var pool = new Parallelize<int, int>([ResilientExecutor.Create<int, int>(retry, AlwaysThrows)], OneAttempt);
        pool.Invoke(1);
        pool.Invoke(2);
        await retried.WaitForAsync(1); // the first call threw and the pipeline waits its hour

        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero).WaitAsync(Timeouts.Hang);

        Assert.Equal([1, 2], aborted);
        Assert.Equal(1, threw.Count);
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_AsyncCallInFlight_TheCallSeesThePoolsCancellationThroughThePipeline()
    {
        var started = new Arrivals();
        async ValueTask<int> Waits(int input, CancellationToken cancellationToken)
        {
            started.Arrive();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return input;
        }

        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 3, Delay = TimeSpan.Zero })
            .AddTimeout(TimeSpan.FromHours(1))
            .Build();
        using var pool = new Parallelize<int, int>(Enumerable.Range(0, 2).Select(_ => ResilientExecutor.Create<int, int>(pipeline, Waits)), OneAttempt);
        for (int i = 1; i <= 5; i++)
        {
            pool.Invoke(i);
        }

        await started.WaitForAsync(2);
        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero).WaitAsync(Timeouts.Hang);

        Assert.Equal([1, 2, 3, 4, 5], aborted);
        Assert.Equal(2, started.Count); // the cancelled calls were not retried
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Fallback_TypedPipeline_ReplacesAFailedResult()
    {
        ResiliencePipeline<int> fallback = new ResiliencePipelineBuilder<int>()
            .AddFallback(new FallbackStrategyOptions<int> { FallbackAction = _ => Outcome.FromResultAsValueTask(-1) })
            .Build();
        using var pool = new Parallelize<int, int>(
            [
                ResilientExecutor.Create<int, int>(fallback, (input, _) => input % 2 == 0 ? throw new InvalidOperationException() : input),
                ResilientExecutor.Create<int, int>(fallback, (input, _) => input % 2 == 0 ? throw new InvalidOperationException() : ValueTask.FromResult(input)),
            ],
            OneAttempt);

        for (int i = 1; i <= 6; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal([-1, -1, -1, 1, 3, 5], pool.Results.Order());
        Assert.Equal(0, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Objects_AndDeferredFactories_RunInsideThePipelineAndAreDisposedByThePool()
    {
        var flaky = new FlakyCounter();
        ResiliencePipeline retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 1, Delay = TimeSpan.Zero }).Build();
        ResiliencePipeline<int> typedRetry = new ResiliencePipelineBuilder<int>().AddRetry(new RetryStrategyOptions<int> { MaxRetryAttempts = 1, Delay = TimeSpan.Zero }).Build();
        var made = new ConcurrentQueue<Disposable>();
        T Make<T>(T executor)
            where T : Disposable
        {
            made.Enqueue(executor);
            return executor;
        }

        var pool = new Parallelize<int, int>(
            [
                ResilientExecutor.Create(retry, Make(new SyncEcho(flaky))),
                ResilientExecutor.Create(retry, Make(new AsyncEcho(flaky))),
                ResilientExecutor.Create(typedRetry, Make(new SyncEcho(flaky))),
                ResilientExecutor.Create(typedRetry, Make(new AsyncEcho(flaky))),
                ResilientExecutor.CreateDeferred<int, int>(retry, () => Make(new SyncEcho(flaky))),
                ResilientExecutor.CreateDeferred<int, int>(retry, _ => ValueTask.FromResult<IAsyncExecutor<int, int>>(Make(new AsyncEcho(flaky)))),
                ResilientExecutor.CreateDeferred<int, int>(typedRetry, () => Make(new SyncEcho(flaky))),
                ResilientExecutor.CreateDeferred<int, int>(typedRetry, _ => ValueTask.FromResult<IAsyncExecutor<int, int>>(Make(new AsyncEcho(flaky)))),
            ],
            OneAttempt);
        var ledger = new Ledger<int>();
        for (int i = 1; i <= 200; i++)
        {
            ledger.Invoke(pool, i);
        }

        // Every deferred executor exists before the pool ends (a pool that finishes its work first need not create them).
        Assert.Equal(8, pool.Executors.Count);
        await pool.DisposeAsync();

        Assert.Equal(Enumerable.Range(1, 200), pool.Results.Order()); // each even input throws once; the retry recovers it
        Assert.Equal(0, pool.Restarts);
        Assert.Equal(8, made.Count);
        Assert.All(made, executor => Assert.Equal(1, executor.Disposals));
        Conservation.AssertHolds(ledger.Accepted, pool, []);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Conservation_RetriesFailuresAndAStopMidRun_EveryInputEndsInResultsFailuresOrAbortedOnce()
    {
        var gate = new Gate();
        var held = new Arrivals();
        var tries = new ConcurrentDictionary<int, int>();
        async ValueTask<int> Work(int input, CancellationToken cancellationToken)
        {
            int attempt = tries.AddOrUpdate(input, 1, static (_, n) => n + 1);
            if (input % 13 == 0)
            {
                throw new InvalidOperationException($"{input} always fails");
            }

            if (input % 5 == 0 && attempt == 1)
            {
                throw new TimeoutException($"{input} fails once");
            }

            if (input > 300)
            {
                held.Arrive();
                await gate.PassAsync(cancellationToken);
            }

            return input;
        }

        ResiliencePipeline retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 2, Delay = TimeSpan.Zero })
            .Build();
        using var pool = new Parallelize<int, int>(
            Enumerable.Range(0, 6).Select(_ => ResilientExecutor.Create<int, int>(retry, Work)),
            new ParallelizeOptions { MaxAttempts = 2, MaxRestarts = 1000, RestartBackoff = TimeSpan.Zero });
        var ledger = new Ledger<int>();
        for (int i = 1; i <= 400; i++)
        {
            ledger.Invoke(pool, i);
        }

        await held.WaitForAsync(1); // a call past 300 is held: it and whatever waits behind it are aborted
        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero).WaitAsync(Timeouts.Hang);
        gate.Open();

        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
        Assert.All(pool.Failures, failure => Assert.Equal(0, failure.Input % 13));
        Assert.All(pool.Results, input => Assert.NotEqual(0, input % 13));
        Assert.Contains(pool.Results, input => input % 5 == 0); // recovered inside the pipeline
        Assert.NotEmpty(aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task DeferredFactory_ReturnsNull_IsAFaultOfThePoolLikeAnyDeferredExecutor()
    {
        ResiliencePipeline pipeline = ResiliencePipeline.Empty;
        using var pool = new Parallelize<int, int>(
            [ResilientExecutor.CreateDeferred<int, int>(pipeline, () => null!), ResilientExecutor.Create<int, int>(pipeline, (x, _) => x)],
            new ParallelizeOptions { MaxRestarts = 0 });

        await Timeouts.Until(() => pool.GetProgress().RetiredExecutors == 1, "the null factory's executor is retired");
        pool.Invoke(7);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal([7], pool.Results);
    }

    [Fact]
    public void Create_NullArguments_ThrowNamingThem()
    {
        ResiliencePipeline plain = ResiliencePipeline.Empty;
        ResiliencePipeline<int> typed = ResiliencePipeline<int>.Empty;

        Assert.Equal("pipeline", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create<int, int>((ResiliencePipeline)null!, (x, _) => x)).ParamName);
        Assert.Equal("function", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(plain, (Func<int, CancellationToken, int>)null!)).ParamName);
        Assert.Equal("function", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(plain, (Func<int, CancellationToken, ValueTask<int>>)null!)).ParamName);
        Assert.Equal("function", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(typed, (Func<int, CancellationToken, int>)null!)).ParamName);
        Assert.Equal("function", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(typed, (Func<int, CancellationToken, ValueTask<int>>)null!)).ParamName);
        Assert.Equal("executor", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(plain, (IExecutor<int, int>)null!)).ParamName);
        Assert.Equal("executor", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(plain, (IAsyncExecutor<int, int>)null!)).ParamName);
        Assert.Equal("executor", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(typed, (IExecutor<int, int>)null!)).ParamName);
        Assert.Equal("executor", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.Create(typed, (IAsyncExecutor<int, int>)null!)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.CreateDeferred(plain, (Func<IExecutor<int, int>>)null!)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.CreateDeferred(plain, (Func<CancellationToken, ValueTask<IAsyncExecutor<int, int>>>)null!)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.CreateDeferred(typed, (Func<IExecutor<int, int>>)null!)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.CreateDeferred(typed, (Func<CancellationToken, ValueTask<IAsyncExecutor<int, int>>>)null!)).ParamName);
        Assert.Equal("pipeline", Assert.Throws<ArgumentNullException>(() => ResilientExecutor.CreateDeferred((ResiliencePipeline<int>)null!, () => (IExecutor<int, int>)null!)).ParamName);
    }

    /// <summary>Throws on the first attempt of each even input, whichever executor makes it.</summary>
    private sealed class FlakyCounter
    {
        private readonly ConcurrentDictionary<int, bool> _failed = new();

        public void Attempt(int input)
        {
            if (input % 2 == 0 && _failed.TryAdd(input, true))
            {
                throw new TimeoutException($"{input} fails once");
            }
        }
    }

    private abstract class Disposable
    {
        private int _disposals;

        public int Disposals => Volatile.Read(ref _disposals);

        protected void CountDisposal() => Interlocked.Increment(ref _disposals);
    }

    private sealed class SyncEcho(FlakyCounter flaky) : Disposable, IExecutor<int, int>, IDisposable
    {
        public int Execute(int input, CancellationToken cancellationToken)
        {
            flaky.Attempt(input);
            return input;
        }

        public void Dispose() => CountDisposal();
    }

    private sealed class AsyncEcho(FlakyCounter flaky) : Disposable, IAsyncExecutor<int, int>, IAsyncDisposable
    {
        public ValueTask<int> ExecuteAsync(int input, CancellationToken cancellationToken)
        {
            flaky.Attempt(input);
            return ValueTask.FromResult(input);
        }

        public ValueTask DisposeAsync()
        {
            CountDisposal();
            return ValueTask.CompletedTask;
        }
    }
}
