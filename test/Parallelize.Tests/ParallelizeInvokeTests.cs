using System.Collections.Concurrent;
using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeInvokeTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_Functions_ResultsHoldOneResultPerCall()
    {
        using var pool = new Parallelize<int, int>([x => x * 2, x => x * 2, x => x * 2]);
        for (int i = 0; i < 100; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, 100).Select(x => x * 2).Order(), pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_FunctionsWithToken_ReceiveALiveToken()
    {
        using var pool = new Parallelize<int, bool>((_, token) => token.CanBeCanceled && !token.IsCancellationRequested, count: 2);
        pool.Invoke(1);

        await pool.WaitAsync();

        Assert.True(Assert.Single(pool.Results));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_AsyncFunctions_AwaitedResultsAreCollected()
    {
        using var pool = new Parallelize<int, string>(
            async (x, token) =>
            {
                await Task.Yield();
                return $"#{x}";
            },
            count: 4);
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, 20).Select(x => $"#{x}").Order(), pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_CallableInstances_EachInstanceIsCalled()
    {
        Counter[] counters = [new(), new(), new()];
        using var pool = new Parallelize<int, int>(counters);
        for (int i = 0; i < 300; i++)
        {
            pool.Invoke(1);
        }

        await pool.WaitAsync();

        Assert.Equal(300, pool.Results.Count);
        Assert.Equal(300, counters.Sum(c => c.Calls));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_AsyncInstances_AreAwaited()
    {
        using var pool = new Parallelize<int, int>(new IAsyncExecutor<int, int>[] { new AsyncNegator(), new AsyncNegator() });
        pool.Invoke(5);
        pool.Invoke(6);

        await pool.WaitAsync();

        Assert.Equal([-6, -5], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_MixedExecutorKinds_AllServeTheQueue()
    {
        // Each executor holds its call until all four have one, so each kind must take exactly one call.
        using var allStarted = new Barrier(4);
        var served = new ConcurrentDictionary<string, int>();
        Executor<int, int>[] executors =
        [
            (Func<int, int>)(x => Serve("func", x)),
            (Func<int, CancellationToken, int>)((x, _) => Serve("token", x)),
            (Func<int, CancellationToken, ValueTask<int>>)(async (x, ct) =>
            {
                await Task.Yield();
                return Serve("async", x);
            }),
            Executor.Create(new Named("instance", Serve)),
        ];
        using var pool = new Parallelize<int, int>(executors);
        for (int i = 0; i < 4; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(4, pool.Results.Count);
        Assert.Equal(["async", "func", "instance", "token"], served.Keys.Order());

        int Serve(string kind, int x)
        {
            served[kind] = x;
            Assert.True(allStarted.SignalAndWait(Timeouts.Hang), "not every executor took a call");
            return x;
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_FromManyThreadsAtOnce_EveryCallEndsInResults()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 8);
        const int Threads = 8;
        const int PerThread = 5_000;
        using var start = new Barrier(Threads);

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (int i = 0; i < PerThread; i++)
                {
                    pool.Invoke((t * PerThread) + i);
                }
            },
            TaskCreationOptions.LongRunning)));
        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, Threads * PerThread), pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ImplicitConversion_ToAction_QueuesCalls()
    {
        using var pool = new Parallelize<int, int>(x => x + 1, count: 2);
        Action<int> call = pool;

        call(1);
        pool.ToAction()(2);

        await pool.WaitAsync();
        Assert.Equal([2, 3], pool.Results.Order());
        Assert.Same(pool.ToAction(), pool.ToAction());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Results_CompletionOrder_ReflectsWhenCallsFinished()
    {
        Gate[] gates = [new(), new(), new()];
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                started.Arrive();
                gates[x].Pass();
                return x;
            },
            count: 3);
        for (int i = 0; i < 3; i++)
        {
            pool.Invoke(i);
        }

        await started.WaitForAsync(3);
        gates[2].Open();
        await Timeouts.Until(() => pool.Results.Count == 1, "the first result is collected");
        gates[0].Open();
        await Timeouts.Until(() => pool.Results.Count == 2, "the second result is collected");
        gates[1].Open();
        await pool.WaitAsync();

        Assert.Equal([2, 0, 1], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Results_ReadWhileCallsRun_IsLiveAndNeverBlocks()
    {
        var gate = new Gate();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                if (x == 1)
                {
                    gate.Pass();
                }

                return x;
            },
            count: 2);
        pool.Invoke(0);
        pool.Invoke(1);

        await Timeouts.Until(() => pool.Results.Count == 1, "the ungated call is collected");
        Assert.Equal([0], pool.Results.ToArray());
        Assert.Equal(0, pool.Results[0]);

        gate.Open();
        await pool.WaitAsync();
        Assert.Equal([0, 1], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SyncExecutors_ThatBlock_AllRunAtOnceOnDedicatedThreads()
    {
        // 250 blocked executors at once: on the thread pool this would crawl at its injection rate and time out.
        const int Executors = 250;
        var gate = new Gate();
        var started = new Arrivals();
        var threads = new ConcurrentDictionary<int, bool>();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                threads[Environment.CurrentManagedThreadId] = Thread.CurrentThread.IsThreadPoolThread;
                started.Arrive();
                gate.Pass();
                return x;
            },
            count: Executors);
        for (int i = 0; i < Executors; i++)
        {
            pool.Invoke(i);
        }

        await started.WaitForAsync(Executors);
        gate.Open();
        await pool.WaitAsync();

        Assert.Equal(Executors, threads.Count);
        Assert.DoesNotContain(true, threads.Values);
        Assert.Equal(Executors, pool.Results.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task AsyncExecutors_WhileAwaiting_HoldNoThread()
    {
        // 1,000 calls awaiting at once: if each held a thread the thread pool could not supply them in time.
        const int Executors = 1_000;
        var gate = new Gate();
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            async (x, token) =>
            {
                started.Arrive();
                await gate.PassAsync(token);
                return x;
            },
            count: Executors);
        for (int i = 0; i < Executors; i++)
        {
            pool.Invoke(i);
        }

        await started.WaitForAsync(Executors);
        gate.Open();
        await pool.WaitAsync();

        Assert.Equal(Executors, pool.Results.Count);
    }

    private sealed class Counter : IExecutor<int, int>
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public int Execute(int input, CancellationToken cancellationToken) => Interlocked.Increment(ref _calls) > 0 ? input : -1;
    }

    private sealed class Named(string name, Func<string, int, int> serve) : IExecutor<int, int>
    {
        public int Execute(int input, CancellationToken cancellationToken) => serve(name, input);
    }

    private sealed class AsyncNegator : IAsyncExecutor<int, int>
    {
        public async ValueTask<int> ExecuteAsync(int input, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return -input;
        }
    }
}
