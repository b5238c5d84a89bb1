using System.Collections.Concurrent;
using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeExecutorsTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Executors_DeferredExecutors_WaitsForInitializationThenReturnsTheInstances()
    {
        var gate = new Gate();
        using var pool = new Parallelize<int, string>(
            Enumerable.Range(0, 10).Select(i => Deferred.Create(() =>
            {
                gate.Pass();
                return new Named($"executor {i}");
            })));

        Task<IReadOnlyList<object>> executors = pool.GetExecutorsAsync();
        Assert.False(executors.IsCompleted);
        gate.Open();

        IReadOnlyList<object> ready = await executors;
        Assert.Equal(10, ready.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"executor {i}"), ready.Cast<Named>().Select(e => e.Name).Order());
        Assert.Equal(ready, await Task.Run(() => pool.Executors));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Deferred_Factories_RunInParallelOnTheirOwnThreads()
    {
        // Each factory waits for all the others: run one after another they would never finish.
        const int Count = 20;
        using var allCreating = new Barrier(Count);
        var threads = new ConcurrentBag<int>();
        using var pool = new Parallelize<int, string>(
            Enumerable.Range(0, Count).Select(i => Deferred.Create(() =>
            {
                threads.Add(Environment.CurrentManagedThreadId);
                Assert.True(allCreating.SignalAndWait(Timeouts.Hang), "factories did not run in parallel");
                return new Named($"{i}");
            })));

        IReadOnlyList<object> executors = await pool.GetExecutorsAsync();

        Assert.Equal(Count, executors.Count);
        Assert.Equal(Count, threads.Distinct().Count());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_BeforeDeferredInitializationFinishes_CallsWaitForIt()
    {
        var gate = new Gate();
        using var pool = new Parallelize<int, string>(
            Enumerable.Range(0, 3).Select(i => Deferred.Create(() =>
            {
                gate.Pass();
                return new Named($"e{i}");
            })));
        for (int i = 0; i < 30; i++)
        {
            pool.Invoke(i);
        }

        Assert.False(pool.Wait(TimeSpan.Zero));
        Assert.Empty(pool.Results);
        gate.Open();
        await pool.WaitAsync();

        Assert.Equal(30, pool.Results.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Deferred_AsyncFactory_CreatesAsyncExecutorsInsideThePool()
    {
        var gate = new Gate();
        using var pool = new Parallelize<int, string>(
            Enumerable.Range(0, 4).Select(i => Deferred.Create<int, string>(async token =>
            {
                await gate.PassAsync(token);
                return new AsyncNamed($"a{i}");
            })));
        pool.Invoke(1);
        gate.Open();

        await pool.WaitAsync();

        Assert.StartsWith("a", Assert.Single(pool.Results), StringComparison.Ordinal);
        Assert.Equal(4, (await pool.GetExecutorsAsync()).Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_WhileAsyncFactoryRuns_CancelsItsToken()
    {
        var started = new Arrivals();
        var cancelled = new Gate();
        var pool = new Parallelize<int, string>(
            [Deferred.Create<int, string>(async token =>
            {
                started.Arrive();
                using CancellationTokenRegistration registration = token.Register(cancelled.Open);
                await Task.Delay(Timeout.Infinite, token);
                return new AsyncNamed("never");
            })]);
        pool.Invoke(1);
        await started.WaitForAsync(1);

        IReadOnlyList<int> aborted = await pool.StopAsync();

        Assert.True(cancelled.IsOpen);
        Assert.Equal([1], aborted);
        Assert.Empty(await pool.GetExecutorsAsync());
        await pool.DisposeAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_WhileSyncFactoryRuns_DisposesTheExecutorItReturnsLate()
    {
        var started = new Arrivals();
        var gate = new Gate();
        var created = new ConcurrentBag<Named>();
        var pool = new Parallelize<int, string>(
            [Deferred.Create(() =>
            {
                started.Arrive();
                gate.Pass();
                var executor = new Named("late");
                created.Add(executor);
                return executor;
            })]);
        pool.Invoke(1);
        await started.WaitForAsync(1);

        Task<IReadOnlyList<int>> stopping = pool.StopAsync();
        await Timeouts.Until(() => pool.IsStopRequested, "Stop has begun");
        gate.Open();

        Assert.Equal([1], await stopping);
        Assert.True(Assert.Single(created).Disposed);
        pool.Dispose();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Executors_ReadFromInsideAnExecutor_DoesNotWait()
    {
        var gate = new Gate();
        Parallelize<int, int>? pool = null;
        pool = new Parallelize<int, int>(
            [
                (Func<int, int>)(x => pool!.Executors.Count),
                Deferred.Create(() =>
                {
                    gate.Pass();
                    return (IExecutor<int, int>)new Echo();
                }),
            ]);
        using (pool)
        {
            pool.Invoke(1);
            await Timeouts.Until(() => pool.Results.Count == 1, "the first call is collected");

            Assert.Equal([1], pool.Results);
            gate.Open();
            Assert.Equal(2, (await pool.GetExecutorsAsync()).Count);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetExecutorsAsync_Cancelled_ThrowsOperationCanceled()
    {
        var gate = new Gate();
        using var pool = new Parallelize<int, string>(
            [Deferred.Create(() =>
            {
                gate.Pass();
                return new Named("slow");
            })]);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.GetExecutorsAsync(cts.Token));
        gate.Open();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SharedInstance_UsedBySeveralExecutors_IsDisposedOnceWhenTheLastOneEnds()
    {
        var shared = new Named("shared");
        var pool = new Parallelize<int, string>([shared, shared, shared]);
        for (int i = 0; i < 9; i++)
        {
            pool.Invoke(i);
        }

        await pool.DisposeAsync();

        Assert.Equal(9, pool.Results.Count);
        Assert.Equal(1, shared.DisposeCount);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetExecutors_MixedExecutors_GivesTheOnesOfTheTypeAskedTypedAndInOrder()
    {
        Func<int, string> plain = static i => $"{i}";
        using var pool = new Parallelize<int, string>(
        [
            Executor.Create<int, string>(new Named("a")),
            Executor.Create(plain),
            Deferred.Create(() => new Named("b")),
        ]);

        await pool.GetExecutorsAsync().WaitAsync(Timeouts.Hang);
        IReadOnlyList<Named> named = pool.GetExecutors<Named>();

        Assert.Equal(["a", "b"], named.Select(static e => e.Name));
        Assert.Equal(3, pool.Executors.Count);
        Assert.Equal(named, pool.GetExecutors<IExecutor<int, string>>().OfType<Named>());
        Assert.Empty(pool.GetExecutors<IAsyncExecutor<int, string>>());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task DebuggerDisplay_ShowsQueuedRunningResultsAndFailures()
    {
        var gate = new Gate();
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            i =>
            {
                started.Arrive();
                gate.Pass();
                return i == 3 ? throw new FormatException("bad") : i;
            },
            count: 1,
            new ParallelizeOptions { MaxAttempts = 1 });
        var attribute = (System.Diagnostics.DebuggerDisplayAttribute)Attribute.GetCustomAttribute(pool.GetType(), typeof(System.Diagnostics.DebuggerDisplayAttribute))!;
        Assert.Equal("{DebuggerDisplay,nq}", attribute.Value);
        System.Reflection.PropertyInfo display = pool.GetType().GetProperty("DebuggerDisplay", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;

        pool.Invoke(1);
        await started.WaitForAsync(1);
        pool.Invoke(2);
        Assert.Equal("Queued = 1, Running = 1, Results = 0, Failures = 0", display.GetValue(pool));

        pool.Invoke(3);
        gate.Open();
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        Assert.Equal("Queued = 0, Running = 0, Results = 2, Failures = 1", display.GetValue(pool));
    }

    private sealed class Named(string name) : IExecutor<int, string>, IDisposable
    {
        private int _disposed;

        public string Name => name;

        public bool Disposed => DisposeCount > 0;

        public int DisposeCount => Volatile.Read(ref _disposed);

        public string Execute(int input, CancellationToken cancellationToken) => $"{name}({input})";

        public void Dispose() => Interlocked.Increment(ref _disposed);
    }

    private sealed class AsyncNamed(string name) : IAsyncExecutor<int, string>
    {
        public async ValueTask<string> ExecuteAsync(int input, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return $"{name}({input})";
        }
    }

    private sealed class Echo : IExecutor<int, int>
    {
        public int Execute(int input, CancellationToken cancellationToken) => input;
    }
}
