using System.Diagnostics.Metrics;
using Parallelize.Core;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Issues;

/// <summary>Regressions for what a review of the batched core found; each failed before its fix.</summary>
public sealed class BatchedCoreReviewTests
{
    [Fact]
    public void WorkerThatTakesAndLeavesCallsBehind_WakesAnIdleWorkerForThem()
    {
        // B searches with a batch of one; A parks because B searches; B takes one call and leaves nine. Before the fix
        // nobody was woken for the nine: with no further call from a producer they stayed queued with A parked.
        var queue = new WorkQueue<int>();
        using var a = new Taker();
        using var b = new Taker();
        var batch = new QueuedCall<int>[8];
        Assert.True(queue.TryStartSearching());
        for (int i = 0; i < 10; i++)
        {
            queue.TryEnqueue(i);
        }

        Assert.Equal(0, queue.TakeOrPark(a, batch, 8, minimum: 64, searching: false, park: true, out _));
        Assert.Equal(0, a.Signal.CurrentCount);

        Assert.Equal(1, queue.TakeOrPark(b, batch, 1, minimum: 1, searching: true, park: true, out _));

        Assert.Equal(1, a.Signal.CurrentCount);
    }

    [Fact]
    public void WorkerTakingWhileOthersIdle_TakesAFairShareAndWakesTheNext()
    {
        // A burst of calls after fast ones must spread over the idle executors, not fill one large batch.
        var queue = new WorkQueue<int>();
        var idle = new[] { new Taker(), new Taker(), new Taker() };
        using var taker = new Taker();
        var batch = new QueuedCall<int>[256];
        Assert.True(queue.TryStartSearching());
        for (int i = 0; i < 9; i++)
        {
            queue.TryEnqueue(i);
        }

        foreach (Taker parked in idle)
        {
            Assert.Equal(0, queue.TakeOrPark(parked, batch, 256, minimum: 64, searching: false, park: true, out _));
        }

        Assert.Equal(3, queue.TakeOrPark(taker, batch, 256, minimum: 1, searching: true, park: true, out _));
        Assert.Equal(1, idle.Sum(parked => parked.Signal.CurrentCount));
        foreach (Taker parked in idle)
        {
            parked.Dispose();
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SlowBurstAfterFastCalls_RunsOnSeveralExecutors()
    {
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        using var burst = new Barrier(4);
        using var pool = new Parallelize<int, int>(
            x =>
            {
                if (x < 0)
                {
                    // Four slow calls meet here: they can only all arrive if they run on four executors at once.
                    threads[Environment.CurrentManagedThreadId] = 1;
                    return burst.SignalAndWait(Timeouts.Hang) ? x : throw new TimeoutException("The burst ran on fewer than four executors.");
                }

                return x;
            },
            count: 8);
        for (int i = 0; i < 100_000; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();
        for (int i = 1; i <= 4; i++)
        {
            pool.Invoke(-i);
        }

        await pool.WaitAsync();

        Assert.Empty(pool.Failures);
        Assert.Equal(4, threads.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ThreadThatFailsToStart_StillHasItsPartOfTheStartTreeStarted()
    {
        // Tree index 1 starts 4 and 5, which start 10, 11, 12, 13: all of them must still start, or Dispose waits
        // for workers that never ran.
        SlotRunner<StartTreeInput, int>.ThreadStartHook = index => _ = index == 1 ? throw new InvalidOperationException("no thread for you") : 0;
        try
        {
            var pool = new Parallelize<StartTreeInput, int>(input => input.Value, count: 14);
            for (int i = 0; i < 1_000; i++)
            {
                pool.Invoke(new StartTreeInput(i));
            }

            await pool.WaitAsync();
            Assert.Equal(13, (await pool.GetExecutorsAsync()).Count);
            await pool.DisposeAsync();

            Assert.Equal(1_000, pool.Results.Count);
        }
        finally
        {
            SlotRunner<StartTreeInput, int>.ThreadStartHook = null;
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task MeterListenerThatThrows_DoesNotStallThePool()
    {
        const string name = "throwing-listener-pool";
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == ParallelizeMetrics.CallDuration)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Value as string == name)
                {
                    throw new InvalidOperationException("a listener's bug");
                }
            }
        });
        listener.Start();

        using var pool = new Parallelize<int, int>(x => x, count: 2, new ParallelizeOptions { Name = name });
        for (int i = 0; i < 100; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(100, pool.Results.Count);
        Assert.Equal(0, pool.Restarts);
    }

    /// <summary>An input type of its own, so the static start hook touches no other test's pools.</summary>
    private readonly record struct StartTreeInput(int Value);

    private sealed class Taker : IWorkTaker<int>, IDisposable
    {
        public bool RunsOnThreadPool => false;

        public SemaphoreSlim Signal { get; } = new(0);

        public int Index => 0;

        public void BeginBatch(int count, bool probe)
        {
        }

        public void Dispose() => Signal.Dispose();
    }
}
