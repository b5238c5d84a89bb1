using System.Runtime.CompilerServices;
using Parallelize.Linq;
using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelMapTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMap_Ordered_YieldsInInputOrderEvenWhenTheFirstFinishesLast()
    {
        var others = new Arrivals();
        List<int> results = await Task.Run(() => Enumerable.Range(0, 50)
            .ParallelMap(
                x =>
                {
                    if (x == 0)
                    {
                        others.WaitForAsync(3).GetAwaiter().GetResult();
                    }
                    else
                    {
                        others.Arrive();
                    }

                    return x * 2;
                },
                degreeOfParallelism: 4)
            .ToList());

        Assert.Equal(Enumerable.Range(0, 50).Select(x => x * 2), results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMap_Unordered_YieldsEveryResult()
    {
        List<int> results = await Task.Run(() => Enumerable.Range(0, 1000).ParallelMap(x => x + 1, degreeOfParallelism: 3, ordered: false).ToList());

        Assert.Equal(Enumerable.Range(1, 1000), results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMap_ReadsTheSourceOnlyAsFastAsResultsAreConsumed()
    {
        // Degree 2, default capacity 256: at most 256 + 2 calls accepted and not yet read from the result stream, plus the
        // chunk the producer holds (256) and the batch the reader holds (256) — an infinite source is still read lazily.
        int read = 0;
        IEnumerable<int> Source()
        {
            for (int i = 0; ; i++)
            {
                Interlocked.Increment(ref read);
                yield return i;
            }
        }

        int consumed = await Task.Run(() =>
        {
            int n = 0;
            foreach (int result in Source().ParallelMap(x => x, degreeOfParallelism: 2))
            {
                Assert.Equal(n, result);
                n++;
                Assert.True(Volatile.Read(ref read) <= n + 256 + 2 + 256 + 256 + 1, $"{read} read for {n} consumed");
                if (n == 5_000)
                {
                    break;
                }
            }

            return n;
        });

        Assert.Equal(5_000, consumed);
        Assert.True(Volatile.Read(ref read) <= 5_000 + 256 + 2 + 256 + 256 + 1, "the source was read ahead of the consumer by more than the bounds allow");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMap_InputFailsForGood_ThrowsParallelizeExceptionAtItsPlace()
    {
        var seen = new List<int>();

        var ex = await Assert.ThrowsAsync<ParallelizeException>(() => Task.Run(() =>
        {
            foreach (int result in Enumerable.Range(0, 100).ParallelMap(x => x == 5 ? throw new FormatException($"row {x}") : x, degreeOfParallelism: 2))
            {
                seen.Add(result);
            }
        }));

        // A malformed row is not worth retrying (ParallelizeOptions.ShouldRetry): one attempt.
        Assert.Equal([0, 1, 2, 3, 4], seen);
        Assert.Single(ex.InnerExceptions);
        Assert.Contains("row 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMap_SourceThrows_ThrowsTheSourceException()
    {
        IEnumerable<int> Source()
        {
            yield return 1;
            throw new IOException("disk gone");
        }

        var ex = await Assert.ThrowsAsync<IOException>(() => Task.Run(() => Source().ParallelMap(x => x, degreeOfParallelism: 2).ToList()));
        Assert.Equal("disk gone", ex.Message);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMap_Cancelled_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        var gate = new Gate();

        Task<List<int>> mapping = Task.Run(() => Enumerable.Range(0, 100).ParallelMap(
            x =>
            {
                gate.Pass();
                return x;
            },
            degreeOfParallelism: 2,
            cancellationToken: cts.Token).ToList());
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => mapping);
        gate.Open();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMapAsync_AsyncSourceAndSelector_YieldsInOrder()
    {
        var results = new List<string>();
        await foreach (string result in Numbers(30).ParallelMapAsync(
            async (x, token) =>
            {
                await Task.Yield();
                return $"#{x}";
            },
            degreeOfParallelism: 5))
        {
            results.Add(result);
        }

        Assert.Equal(Enumerable.Range(0, 30).Select(x => $"#{x}"), results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMapAsync_DeferredExecutorsUnordered_YieldsEveryResult()
    {
        var results = new List<int>();
        await foreach (int result in Numbers(100).ParallelMapAsync(
            [Deferred.Create<int, int>(() => new Negate()), Deferred.Create<int, int>(() => new Negate())],
            ordered: false))
        {
            results.Add(result);
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(x => -x).Order(), results.Order());
    }

    [Fact]
    public void ParallelMap_BadArguments_ThrowNamingThem()
    {
        Assert.Equal("degreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => Enumerable.Range(0, 1).ParallelMap(x => x, 0)).ParamName);
        Assert.Equal("selector", Assert.Throws<ArgumentNullException>(() => Enumerable.Range(0, 1).ParallelMap((Func<int, int>)null!, 1)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => ((IEnumerable<int>)null!).ParallelMap(x => x, 1)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => ((IAsyncEnumerable<int>)null!).ParallelMapAsync((x, _) => ValueTask.FromResult(x), 1)).ParamName);
        Assert.Equal("degreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => Numbers(1).ParallelMapAsync((x, _) => ValueTask.FromResult(x), 0)).ParamName);
    }

    private static async IAsyncEnumerable<int> Numbers(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return i;
        }
    }

    private sealed class Negate : IExecutor<int, int>
    {
        public int Execute(int input, CancellationToken cancellationToken) => -input;
    }
}
