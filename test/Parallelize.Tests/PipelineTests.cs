using System.Runtime.CompilerServices;
using Parallelize.Pipelines;
using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class PipelineTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task ForEach_OrderedStages_GiveWhatASequentialLoopGives()
    {
        string[] lines = [.. Enumerable.Range(0, 2000).Select(i => string.Join(',', Enumerable.Range(i, 5)))];
        var sums = new List<long>();

        PipelineResult<long> result = await Task.Run(() => Pipeline.From(lines)
            .Then(line => line.Split(',').Select(long.Parse).ToArray(), degreeOfParallelism: 2, ordered: true)
            .Then(row => row.Sum(), degreeOfParallelism: 2, ordered: true)
            .ForEach(sums.Add));

        Assert.Equal(lines.Select(line => line.Split(',').Sum(long.Parse)), sums);
        Assert.Equal(2000, result.Value);
        Assert.False(result.Stopped);
        Assert.Equal(["1: Then", "2: Then", "3: final"], result.Stages.Select(s => s.Name));
        Assert.All(result.Stages, s => Assert.Equal(2000, s.Succeeded));
        Assert.All(result.Stages, s => Assert.Equal(0, s.AbortedCount));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Reduce_ThenManyExpandsEachItem_ReducesEveryOutputOnOneThreadOneAtATime()
    {
        int[][] files = [.. Enumerable.Range(0, 6).Select(f => Enumerable.Range(f * 1000, 1000).ToArray())];
        int callerThread = 0;
        int inReducer = 0;
        var threads = new HashSet<int>();

        PipelineResult<long> result = await Task.Run(() =>
        {
            callerThread = Environment.CurrentManagedThreadId;
            return Pipeline.From(files)
                .ThenMany(file => file, degreeOfParallelism: 2)
                .Then(x => (long)x * x, degreeOfParallelism: 2)
                .Reduce(0L, (sum, x) =>
                {
                    Assert.Equal(1, Interlocked.Increment(ref inReducer));
                    threads.Add(Environment.CurrentManagedThreadId);
                    Interlocked.Decrement(ref inReducer);
                    return sum + x;
                });
        });

        Assert.Equal(Enumerable.Range(0, 6000).Sum(x => (long)x * x), result.Value);
        Assert.Equal([callerThread], threads);
        Assert.Equal(6, result.Stages[0].Succeeded);
        Assert.Equal(6000, result.Stages[2].Succeeded);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ReduceAsync_AsyncSourceAndAsyncStage_GivesTheSequentialResult()
    {
        PipelineResult<string> result = await Pipeline.From(Numbers(200))
            .Then(
                async (x, token) =>
                {
                    await Task.Yield();
                    return x * 3;
                },
                degreeOfParallelism: 4,
                ordered: true)
            .ReduceAsync(string.Empty, (text, x) => text + x + ";");

        Assert.Equal(string.Concat(Enumerable.Range(0, 200).Select(x => $"{x * 3};")), result.Value);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ForEachAsync_Unordered_SeesEveryItemOnceAndTheBuilderRunsAgain()
    {
        PipelineBuilder<int> doubled = Pipeline.From(Enumerable.Range(0, 500)).Then(x => x * 2, degreeOfParallelism: 3);
        var first = new List<int>();
        var second = new List<int>();

        PipelineResult<long> one = await doubled.ForEachAsync(first.Add);
        PipelineResult<long> two = await doubled.ForEachAsync(second.Add);

        Assert.Equal(Enumerable.Range(0, 500).Select(x => x * 2), first.Order());
        Assert.Equal(first.Order(), second.Order());
        Assert.Equal(500, one.Value);
        Assert.Equal(500, two.Value);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ForEach_Cancelled_StopsEveryStageAndEachReportsWhatItAborted()
    {
        // Stage 2 holds its calls until the test has cancelled; every source item must end in exactly one report.
        var held = new Gate();
        var arrived = new Arrivals();
        using var cts = new CancellationTokenSource();
        int consumed = 0;

        Task<PipelineResult<long>> run = Task.Run(() => Pipeline.From(Enumerable.Range(0, 100_000))
            .Then(x => x, degreeOfParallelism: 2, name: "copy")
            .Then(
                x =>
                {
                    arrived.Arrive();
                    held.Pass();
                    return x;
                },
                degreeOfParallelism: 2,
                name: "held")
            .ForEach(_ => consumed++, cts.Token));
        await arrived.WaitForAsync(2);
        await cts.CancelAsync();
        await Timeouts.Until(() => run.IsCompleted || held.IsOpen, "the run reacts to the cancellation");
        held.Open();
        PipelineResult<long> result = await run;

        Assert.True(result.Stopped);
        StageReport copy = result.Stages[0];
        StageReport heldStage = result.Stages[1];
        StageReport final = result.Stages[2];
        Assert.True(heldStage.AbortedCount >= 2, "the held calls were aborted");
        Assert.Equal(consumed, final.Succeeded);

        // Conservation, stage by stage: what a stage passed on, the next one completed or aborted.
        Assert.Equal(copy.Succeeded, heldStage.Succeeded + heldStage.AbortedCount);
        Assert.Equal(heldStage.Succeeded, final.Succeeded + final.AbortedCount);
        Assert.True(copy.Succeeded + copy.AbortedCount < 100_000, "the source was read lazily, not up front");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ForEach_StageFailsForGood_ReportsTheFailureAndTheRestFlows()
    {
        var seen = new List<int>();

        PipelineResult<long> result = await Task.Run(() => Pipeline.From(Enumerable.Range(0, 50))
            .Then(x => x == 7 ? throw new FormatException("bad row 7") : x, degreeOfParallelism: 2, ordered: true)
            .ForEach(seen.Add));

        Assert.Equal(Enumerable.Range(0, 50).Where(x => x != 7), seen);
        Failure<int> failure = Assert.Single(result.Stage<int>(0).Failures);
        Assert.Equal(7, failure.Input);
        Assert.Equal(1, failure.Attempts);
        Assert.Equal(8, failure.CallNumber); // the eighth row of the source
        Assert.Equal((8L, "bad row 7"), result.Stages[0].FailureExceptions.Select(f => (f.CallNumber, f.Exception.Message)).Single());
        Assert.Throws<InvalidCastException>(() => result.Stage<string>(0));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ThenMany_ExpansionThrows_TheItemFailsOnceAndItsFirstOutputsStay()
    {
        PipelineResult<long> result = await Task.Run(() => Pipeline.From(["a", "b"])
            .ThenMany(Expand, degreeOfParallelism: 1)
            .ForEach(_ => { }));

        Failure<string> failure = Assert.Single(result.Stage<string>(0).Failures);
        Assert.Equal("b", failure.Input);
        Assert.Equal(1, failure.Attempts);
        Assert.Equal(4, result.Value);

        static IEnumerable<string> Expand(string s)
        {
            yield return s + "1";
            yield return s + "2";
            if (s == "b")
            {
                throw new IOException("truncated file");
            }
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Reduce_SourceThrows_RethrowsAfterTheStagesDrain()
    {
        IEnumerable<int> Source()
        {
            yield return 1;
            yield return 2;
            throw new IOException("disk gone");
        }

        var ex = await Assert.ThrowsAsync<IOException>(() => Task.Run(() => Pipeline.From(Source()).Then(x => x, 2).Reduce(0, (a, x) => a + x)));
        Assert.Equal("disk gone", ex.Message);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Reduce_ReducerThrows_StopsThePipelineAndRethrows()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(() =>
            Pipeline.From(Enumerable.Range(0, 1_000_000)).Then(x => x, 2).Reduce(0, (a, x) => x == 10 ? throw new InvalidOperationException("reducer broke") : a + x)));

        Assert.Equal("reducer broke", ex.Message);
    }

    [Fact]
    public void Builder_BadArguments_ThrowNamingThem()
    {
        PipelineBuilder<int> start = Pipeline.From(Enumerable.Range(0, 1));

        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => Pipeline.From((IEnumerable<int>)null!)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => Pipeline.From((IAsyncEnumerable<int>)null!)).ParamName);
        Assert.Equal("degreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => start.Then(x => x, 0)).ParamName);
        Assert.Equal("degreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => start.ThenMany(x => new[] { x }, 0)).ParamName);
        Assert.Equal("executors", Assert.Throws<ArgumentException>(() => start.Then(Array.Empty<Executor<int, int>>())).ParamName);
        Assert.Equal("reducer", Assert.Throws<ArgumentNullException>(() => start.Reduce(0, null!)).ParamName);
        Assert.Equal("action", Assert.Throws<ArgumentNullException>(() => start.ForEach(null!)).ParamName);
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
}
