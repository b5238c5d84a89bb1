using Parallelize.Core;

namespace Parallelize.Tests.Core;

public sealed class WorkQueueTests
{
    [Fact]
    public void Close_WithQueuedCalls_ReturnsThemInQueueOrderAndRefusesMore()
    {
        var queue = new WorkQueue<string>();
        Assert.True(queue.TryEnqueue("a"));
        Assert.True(queue.TryEnqueue("b"));
        Assert.Equal(2, queue.Count);

        List<QueuedCall<string>> drained = Drain(queue);

        Assert.Equal(["a", "b"], drained.Select(call => call.Input));
        Assert.Equal([1L, 2L], drained.Select(call => call.Sequence));
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryEnqueue("c"));
        Assert.True(queue.Drained.IsCompleted);
    }

    [Fact]
    public void TakeOrPark_TakesUpToTheBatchSizeInOrderHandsTheBatchOverAndCountsItInFlight()
    {
        var queue = new WorkQueue<int>();
        using var taker = new Taker();
        for (int i = 1; i <= 5; i++)
        {
            queue.TryEnqueue(i);
        }

        var batch = new QueuedCall<int>[3];
        int taken = queue.TakeOrPark(taker, batch, 3, minimum: 1, searching: false, park: false, out bool closed);

        Assert.False(closed);
        Assert.Equal(3, taken);
        Assert.Equal([1, 2, 3], batch.Select(call => call.Input));
        Assert.Equal(3, taker.Batch);
        Assert.Equal(3, queue.InFlight);
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public void TryRequeue_AtFront_PutsTheCallsFirstInTheirOrder_AndAtTheBackLast()
    {
        var queue = new WorkQueue<int>();
        using var taker = new Taker();
        queue.TryEnqueue(1);
        queue.TryEnqueue(2);
        queue.TryEnqueue(3);
        var batch = new QueuedCall<int>[2];
        queue.TakeOrPark(taker, batch, 2, minimum: 1, searching: false, park: false, out _);

        Assert.True(queue.TryRequeue(batch.AsSpan(1, 1), atFront: true));
        Assert.True(queue.TryRequeue(batch.AsSpan(0, 1), atFront: false));

        Assert.Equal([2, 3, 1], Drain(queue).Select(call => call.Input));
    }

    [Fact]
    public void Queue_GrowingPastItsRingWhileWrapped_KeepsCallOrder()
    {
        var queue = new WorkQueue<int>();
        using var taker = new Taker();
        var batch = new QueuedCall<int>[40];
        int next = 0;
        for (; next < 60; next++)
        {
            queue.TryEnqueue(next);
        }

        queue.TakeOrPark(taker, batch, 40, minimum: 1, searching: false, park: false, out _);
        for (; next < 200; next++)
        {
            queue.TryEnqueue(next);
        }

        Assert.Equal(Enumerable.Range(40, 160), Drain(queue).Select(call => call.Input));
    }

    [Fact]
    public void Drained_AfterClose_CompletesOnlyWhenTheLastTakenBatchIsComplete()
    {
        var queue = new WorkQueue<int>();
        using var taker = new Taker();
        queue.TryEnqueue(1);
        queue.TryEnqueue(2);
        var batch = new QueuedCall<int>[2];
        Assert.Equal(2, queue.TakeOrPark(taker, batch, 2, minimum: 1, searching: false, park: false, out _));

        queue.Close([]).Dispose();
        Assert.False(queue.Drained.IsCompleted);
        queue.Settled(2);

        Assert.True(queue.Drained.IsCompleted);
        Assert.Equal(0, queue.TakeOrPark(taker, batch, 2, minimum: 1, searching: false, park: false, out bool closed));
        Assert.True(closed);
    }

    [Fact]
    public void TryRequeue_AfterClose_FailsAndLeavesTheCallsWithTheirOwner()
    {
        var queue = new WorkQueue<int>();
        queue.Close([]).Dispose();

        QueuedCall<int>[] calls = [new QueuedCall<int>(1, 1, holdsPlace: false)];
        Assert.False(queue.TryRequeue(calls, atFront: false));
    }

    [Fact]
    public void Bounded_TakingACallGivesItsPlaceBack_ARequeuedCallTakesNone()
    {
        var queue = new WorkQueue<int>(capacity: 1);
        using var taker = new Taker();
        Assert.True(queue.WaitForRoom(TimeSpan.Zero, CancellationToken.None));
        queue.TryEnqueue(1);
        Assert.False(queue.WaitForRoom(TimeSpan.Zero, CancellationToken.None));

        var batch = new QueuedCall<int>[1];
        queue.TakeOrPark(taker, batch, 1, minimum: 1, searching: false, park: false, out _);
        Assert.False(batch[0].HoldsPlace);
        Assert.True(queue.TryRequeue(batch, atFront: true));

        Assert.True(queue.WaitForRoom(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public void Producer_WakesAParkedWorker_OnlyWhileCallsOutnumberSearchingWorkers()
    {
        var queue = new WorkQueue<int>();
        using var first = new Taker();
        using var second = new Taker();
        var batch = new QueuedCall<int>[1];
        Assert.Equal(0, queue.TakeOrPark(first, batch, 1, minimum: 1, searching: false, park: true, out _));
        Assert.Equal(0, queue.TakeOrPark(second, batch, 1, minimum: 1, searching: false, park: true, out _));

        queue.TryEnqueue(1);
        Assert.Equal(1, first.Signal.CurrentCount + second.Signal.CurrentCount);

        // The woken worker counts as searching, so no other worker may start spinning; a second call outnumbers it and wakes the second.
        Assert.True(queue.TryStartSearching() is false);
        queue.TryEnqueue(2);
        Assert.Equal(2, first.Signal.CurrentCount + second.Signal.CurrentCount);
        queue.TryEnqueue(3);
        Assert.Equal(2, first.Signal.CurrentCount + second.Signal.CurrentCount);
    }

    [Fact]
    public void SearchingWorker_LeavesTheCountInItsLockedStep_SoTheNextCallWakesAParkedOne()
    {
        var queue = new WorkQueue<int>();
        using var spinner = new Taker();
        using var parked = new Taker();
        var batch = new QueuedCall<int>[1];
        Assert.Equal(0, queue.TakeOrPark(parked, batch, 1, minimum: 1, searching: false, park: true, out _));
        Assert.True(queue.TryStartSearching());
        Assert.False(queue.TryStartSearching());

        queue.TryEnqueue(1);
        Assert.Equal(0, parked.Signal.CurrentCount);

        Assert.Equal(1, queue.TakeOrPark(spinner, batch, 1, minimum: 1, searching: true, park: false, out _));
        queue.TryEnqueue(2);
        Assert.Equal(1, parked.Signal.CurrentCount);
    }

    [Fact]
    public void TakeOrPark_BelowTheMinimum_LeavesCallsToGather_UnlessParkingWithNoneSearching()
    {
        var queue = new WorkQueue<int>();
        using var taker = new Taker();
        using var other = new Taker();
        var batch = new QueuedCall<int>[8];
        queue.TryEnqueue(1);
        queue.TryEnqueue(2);

        Assert.Equal(0, queue.TakeOrPark(taker, batch, 8, minimum: 4, searching: false, park: false, out _));

        // Another worker searches: this one may park and leave the two calls to it.
        Assert.True(queue.TryStartSearching());
        Assert.Equal(0, queue.TakeOrPark(taker, batch, 8, minimum: 4, searching: false, park: true, out _));

        // The searcher comes for them with a minimum of one: with the other worker idle it takes its fair share and
        // wakes that worker for the rest.
        Assert.Equal(1, queue.TakeOrPark(other, batch, 8, minimum: 1, searching: true, park: true, out _));
        Assert.Equal(1, taker.Signal.CurrentCount);

        // Nobody searches: a worker about to park takes what is there rather than strand it.
        var quiet = new WorkQueue<int>();
        quiet.TryEnqueue(3);
        Assert.Equal(1, quiet.TakeOrPark(other, batch, 8, minimum: 4, searching: false, park: true, out _));
        Assert.Equal(3, batch[0].Input);
    }

    [Fact(Timeout = 60_000)]
    public async Task ParkedWorker_IsWokenByClose()
    {
        var queue = new WorkQueue<int>();
        using var taker = new Taker();
        var batch = new QueuedCall<int>[1];
        Assert.Equal(0, queue.TakeOrPark(taker, batch, 1, minimum: 1, searching: false, park: true, out _));

        Task waiting = taker.Signal.WaitAsync();
        queue.Close([]).Dispose();
        await waiting;

        Assert.Equal(0, queue.TakeOrPark(taker, batch, 1, minimum: 1, searching: true, park: true, out bool closed));
        Assert.True(closed);
    }

    private static List<QueuedCall<T>> Drain<T>(WorkQueue<T> queue)
    {
        using WorkQueue<T>.DrainedCalls drained = queue.Close([]);
        var calls = new List<QueuedCall<T>>();
        for (int i = 0; i < drained.Count; i++)
        {
            calls.Add(drained[i]);
        }

        return calls;
    }

    private sealed class Taker : IWorkTaker<int>, IDisposable
    {
        public int Batch { get; private set; }

        public bool RunsOnThreadPool => false;

        public SemaphoreSlim Signal { get; } = new(0);

        public int Index => 0;

        public void BeginBatch(int count, bool probe) => Batch = count;

        public void Dispose() => Signal.Dispose();
    }
}
