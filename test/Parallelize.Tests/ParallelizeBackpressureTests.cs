using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeBackpressureTests
{
    private static readonly ParallelizeOptions Capacity2 = new() { BoundedCapacity = 2 };

    [Fact]
    public void Options_BoundedCapacityBelowOne_ThrowsNamingIt()
    {
        Assert.Equal("BoundedCapacity", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { BoundedCapacity = 0 }).ParamName);
        Assert.Null(new ParallelizeOptions().BoundedCapacity);
        Assert.True(new ParallelizeOptions().RetainResults);
        Assert.False(new ParallelizeOptions().OrderedResults);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_BoundedQueueFull_BlocksUntilAWorkerTakesACall()
    {
        var work = new GatedFunction();
        using var pool = await FullPoolAsync(work);

        Task blocked = Task.Run(() => pool.Invoke(4));
        Assert.False(pool.TryInvoke(5));
        Assert.False(blocked.IsCompleted);
        work.Gate.Open();
        await blocked;
        await pool.WaitAsync();

        Assert.Equal([1, 2, 3, 4], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task InvokeAsync_BoundedQueueFull_WaitsAndCanBeCancelledWithoutQueueing()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1, Capacity2);
        await pool.InvokeAsync(1);
        await work.Started.WaitForAsync(1);
        await pool.InvokeAsync(2);
        await pool.InvokeAsync(3);
        using var cts = new CancellationTokenSource();

        ValueTask cancelled = pool.InvokeAsync(98, cts.Token);
        Assert.False(cancelled.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        ValueTask waiting = pool.InvokeAsync(4);
        Assert.False(waiting.IsCompleted);
        work.Gate.Open();
        await waiting;
        await pool.WaitAsync();

        Assert.Equal([1, 2, 3, 4], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task TryInvoke_Unbounded_AlwaysQueues()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);

        Assert.All(Enumerable.Range(0, 100), i => Assert.True(pool.TryInvoke(i)));
        await pool.WaitAsync();
        Assert.Equal(100, pool.Results.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_ReleasesBlockedCallersWithAClearException()
    {
        var work = new GatedFunction();
        using var pool = await FullPoolAsync(work);
        Task blocked = Task.Run(() => pool.Invoke(4));
        ValueTask blockedAsync = pool.InvokeAsync(5);

        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => blocked);
        Assert.Contains("stopped", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await blockedAsync);
        Assert.Equal([1, 2, 3], aborted);
        work.Gate.Open();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Dispose_ReleasesBlockedCallersWithObjectDisposed()
    {
        var work = new GatedFunction();
        var pool = await FullPoolAsync(work);
        Task blocked = Task.Run(() => pool.Invoke(4));

        Task disposing = Task.Run(pool.Dispose);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => blocked);
        work.Gate.Open();
        await disposing;

        Assert.Equal([1, 2, 3], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Complete_ReleasesBlockedCallersAndRefusesNewOnes()
    {
        var work = new GatedFunction();
        using var pool = await FullPoolAsync(work);
        Task blocked = Task.Run(() => pool.Invoke(4));

        pool.Complete();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => blocked);
        Assert.Contains("Complete", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => pool.TryInvoke(5));
        work.Gate.Open();
        await pool.WaitAsync();
        Assert.Equal([1, 2, 3], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task BoundedPool_UnreadResultStream_HoldsBackWorkersAndCallers()
    {
        // Capacity 2 and one executor: at most 2 + 1 calls accepted and not yet read.
        var options = new ParallelizeOptions { BoundedCapacity = 2, RetainResults = false };
        int executed = 0;
        int accepted = 0;
        using var pool = new Parallelize<int, int>(
            x =>
            {
                Interlocked.Increment(ref executed);
                return x;
            },
            count: 1,
            options);
        Task producer = Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; i < 100; i++)
                {
                    pool.Invoke(i);
                    Interlocked.Increment(ref accepted);
                }

                pool.Complete();
            },
            TaskCreationOptions.LongRunning);

        int read = 0;
        await foreach (int result in pool.ReadResultsAsync())
        {
            Assert.Equal(read, result);
            read++;
            Assert.True(Volatile.Read(ref executed) <= read + 3, $"{executed} executed with {read} read");
            Assert.True(Volatile.Read(ref accepted) <= read + 3, $"{accepted} accepted with {read} read");
        }

        await producer;
        Assert.Equal(100, read);
        Assert.Empty(pool.Results);
    }

    /// <summary>A pool with capacity 2 and one executor holding call 1, with calls 2 and 3 queued: the queue is full.</summary>
    private static async Task<Parallelize<int, int>> FullPoolAsync(GatedFunction work)
    {
        var pool = new Parallelize<int, int>(work.Run, count: 1, Capacity2);
        pool.Invoke(1);
        await work.Started.WaitForAsync(1);
        pool.Invoke(2);
        pool.Invoke(3);
        return pool;
    }
}
