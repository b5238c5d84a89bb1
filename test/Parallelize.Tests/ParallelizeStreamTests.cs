using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeStreamTests
{
    private static readonly ParallelizeOptions NotRetained = new() { RetainResults = false };

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAllAsync_Retained_ReplaysThenFollowsUntilCompleteWithInputs()
    {
        using var pool = new Parallelize<int, int>(x => x * x, count: 2);
        pool.Invoke(1);
        pool.Invoke(2);
        await pool.WaitAsync();

        Task<List<CallResult<int, int>>> reading = ReadAllAsync(pool.ReadAllAsync());
        pool.Invoke(3);
        Assert.False(reading.IsCompleted);
        pool.Complete();
        List<CallResult<int, int>> read = await reading;

        Assert.Equal([(1, 1), (2, 4), (3, 9)], read.Select(c => (c.Input, c.Output)).Order());
        Assert.Equal(3, pool.Results.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAllAsync_Retained_ManyReadersEachSeeEveryResult()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 2);
        Task<List<CallResult<int, int>>>[] readers = [ReadAllAsync(pool.ReadAllAsync()), ReadAllAsync(pool.ReadAllAsync())];
        for (int i = 0; i < 50; i++)
        {
            pool.Invoke(i);
        }

        pool.Complete();

        foreach (List<CallResult<int, int>> read in await Task.WhenAll(readers))
        {
            Assert.Equal(Enumerable.Range(0, 50), read.Select(c => c.Output).Order());
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAll_Blocking_EndsWhenEveryCallHasEndedAfterComplete()
    {
        using var pool = new Parallelize<int, string>(x => $"<{x}>", count: 2);
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(i);
        }

        pool.Complete();
        List<string> results = await Task.Run(() => pool.ReadResults().ToList());
        List<CallResult<int, string>> pairs = await Task.Run(() => pool.ReadAll().ToList());

        Assert.Equal(10, results.Count);
        Assert.All(pairs, p => Assert.Equal($"<{p.Input}>", p.Output));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAllAsync_NotRetained_DeliversEachResultOnceAndResultsStaysEmpty()
    {
        using var pool = new Parallelize<int, int>(x => x + 100, count: 3, NotRetained);
        Task<List<CallResult<int, int>>> reading = ReadAllAsync(pool.ReadAllAsync());
        for (int i = 0; i < 200; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();
        pool.Complete();
        List<CallResult<int, int>> read = await reading;

        Assert.Equal(Enumerable.Range(0, 200), read.Select(c => c.Input).Order());
        Assert.All(read, c => Assert.Equal(c.Input + 100, c.Output));
        Assert.Empty(pool.Results);
        Assert.Empty(await ReadAllAsync(pool.ReadAllAsync()));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAllAsync_NotRetainedWithASecondConcurrentReader_Throws()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1, NotRetained);
        await using IAsyncEnumerator<CallResult<int, int>> first = pool.ReadAllAsync().GetAsyncEnumerator();
        pool.Invoke(1);
        Assert.True(await first.MoveNextAsync());

        await using IAsyncEnumerator<CallResult<int, int>> second = pool.ReadAllAsync().GetAsyncEnumerator();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await second.MoveNextAsync());
        Assert.Contains("single reader", ex.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAllAsync_PoolStops_StreamEndsAfterWhatWasDelivered(bool retain)
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(
            [x => x, work.Run],
            new ParallelizeOptions { RetainResults = retain });
        Task<List<CallResult<int, int>>> reading = ReadAllAsync(pool.ReadAllAsync());
        pool.Invoke(1);
        pool.Invoke(2);
        await Timeouts.Until(() => work.Started.Count == 1 || pool.Wait(TimeSpan.Zero), "a call is held");

        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero);
        List<CallResult<int, int>> read = await reading;
        work.Gate.Open();

        Assert.Equal(2, read.Count + aborted.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAllAsync_PoolDisposed_StreamEnds()
    {
        var pool = new Parallelize<int, int>(x => x, count: 2, NotRetained);
        Task<List<CallResult<int, int>>> reading = ReadAllAsync(pool.ReadAllAsync());
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        await pool.DisposeAsync();

        Assert.Equal(20, (await reading).Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAllAsync_FailedInputs_AreInFailuresNotInTheStream()
    {
        using var pool = new Parallelize<int, int>(x => x == 3 ? throw new InvalidOperationException("bad") : x, count: 2, NotRetained);
        Task<List<CallResult<int, int>>> reading = ReadAllAsync(pool.ReadAllAsync());
        for (int i = 0; i < 6; i++)
        {
            pool.Invoke(i);
        }

        pool.Complete();

        Assert.Equal([0, 1, 2, 4, 5], (await reading).Select(c => c.Input).Order());
        Assert.Equal(3, Assert.Single(pool.Failures).Input);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAllAsync_Cancelled_ThrowsOperationCanceled()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);
        using var cts = new CancellationTokenSource();
        Task<List<CallResult<int, int>>> reading = ReadAllAsync(pool.ReadAllAsync(cts.Token));

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReadAll_FromInsideOwnExecutor_Throws()
    {
        Parallelize<int, string>? pool = null;
        pool = new Parallelize<int, string>(
            x =>
            {
                try
                {
                    using IEnumerator<CallResult<int, string>> reader = pool!.ReadAll().GetEnumerator();
                    return "no exception";
                }
                catch (InvalidOperationException ex)
                {
                    return ex.Message;
                }
            },
            count: 1);
        using (pool)
        {
            pool.Invoke(1);
            await pool.WaitAsync();

            Assert.Contains("from inside", Assert.Single(pool.Results), StringComparison.Ordinal);
        }
    }

    private static async Task<List<T>> ReadAllAsync<T>(IAsyncEnumerable<T> stream)
    {
        var list = new List<T>();
        await foreach (T item in stream)
        {
            list.Add(item);
        }

        return list;
    }
}
