using Parallelize.Core;

namespace Parallelize.Tests.Core;

public sealed class WorkQueueTests
{
    [Fact]
    public void Close_WithQueuedItems_ReturnsThemInQueueOrderAndRefusesMore()
    {
        var queue = new WorkQueue<string>();
        Assert.True(queue.TryEnqueue(new WorkItem<string>("a")));
        Assert.True(queue.TryEnqueue(new WorkItem<string>("b")));
        Assert.Equal(2, queue.Count);

        List<WorkItem<string>> drained = queue.Close();

        Assert.Equal(["a", "b"], drained.Select(i => i.Input));
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryEnqueue(new WorkItem<string>("c")));
        Assert.True(queue.Drained.IsCompleted);
    }

    [Fact]
    public void TryTake_MarksTheItemRunningPublishesItAndCountsItInFlight()
    {
        var queue = new WorkQueue<int>();
        var taker = new Taker();
        var item = new WorkItem<int>(5);
        queue.TryEnqueue(item);

        Assert.True(queue.TryTake(taker, out WorkItem<int>? taken));

        Assert.Same(item, taken);
        Assert.Same(item, taker.Current);
        Assert.Equal(WorkItem<int>.Running, item.State);
        Assert.Equal(1, queue.InFlight);
    }

    [Fact]
    public void Drained_AfterClose_CompletesOnlyWhenTheLastTakenItemIsComplete()
    {
        var queue = new WorkQueue<int>();
        var taker = new Taker();
        queue.TryEnqueue(new WorkItem<int>(1));
        Assert.True(queue.TryTake(taker, out _));

        queue.Close();
        Assert.False(queue.Drained.IsCompleted);
        queue.Complete();

        Assert.True(queue.Drained.IsCompleted);
        Assert.False(queue.TryTake(taker, out _));
    }

    [Fact]
    public void TryClaim_RacingClaimants_ExactlyOneWins()
    {
        var item = new WorkItem<int>(1);
        item.MarkRunning();

        bool[] wins = new bool[8];
        Parallel.For(0, wins.Length, i => wins[i] = item.TryClaim());

        Assert.Single(wins, won => won);
        Assert.Equal(WorkItem<int>.Claimed, item.State);
    }

    [Fact]
    public void TryRequeue_AfterClose_FailsAndLeavesTheItemWithItsOwner()
    {
        var queue = new WorkQueue<int>();
        var item = new WorkItem<int>(1);
        queue.Close();

        Assert.False(queue.TryRequeue(item));
        Assert.Equal(WorkItem<int>.Queued, item.State);
    }

    [Fact(Timeout = 60_000)]
    public async Task TakeAsync_EmptyQueue_WaitsUntilAnItemArrivesOrTheQueueCloses()
    {
        var queue = new WorkQueue<int>();
        var first = new Taker();
        var second = new Taker();

        ValueTask<WorkItem<int>?> waiting = queue.TakeAsync(first);
        Assert.False(waiting.IsCompleted);
        queue.TryEnqueue(new WorkItem<int>(42));
        Assert.Equal(42, (await waiting)!.Input);

        ValueTask<WorkItem<int>?> closing = queue.TakeAsync(second);
        queue.Close();
        Assert.Null(await closing);
    }

    [Fact(Timeout = 60_000)]
    public async Task TryTake_BlockedTaker_IsWokenByClose()
    {
        var queue = new WorkQueue<int>();
        var taker = new Taker();

        Task<bool> taking = Task.Run(() => queue.TryTake(taker, out _));
        queue.Close();

        Assert.False(await taking);
    }

    private sealed class Taker : IWorkTaker<int>, IDisposable
    {
        public WorkItem<int>? Current { get; set; }

        public SemaphoreSlim Signal { get; } = new(0);

        public void Dispose() => Signal.Dispose();
    }
}
