using Parallelize.Orleans.Client;

namespace Parallelize.Orleans.Tests.Client;

public sealed class SentBatchTests
{
    [Fact]
    public void TryTake_SameCallTwice_SecondIsRefused()
    {
        var batch = new SentBatch(1, [0, 1], [10, 11]);

        Assert.True(batch.TryTake(1, out int first));
        Assert.False(batch.TryTake(1, out _));

        Assert.Equal(SentBatch.Running, first);
        Assert.Equal(1, batch.Open);
    }

    [Fact]
    public void End_WithSomeReported_GivesUpOnlyTheOthersOnce()
    {
        var batch = new SentBatch(1, [0, 1, 2], [10, 11, 12]);
        batch.TryTake(1, out _);

        int[] givenUp = batch.End(SentBatch.Lost);
        int[] again = batch.End(SentBatch.Stopped);

        Assert.Equal([0, 2], givenUp);
        Assert.Equal([10L, 12L], batch.IdsAt(givenUp));
        Assert.Empty(again);
        Assert.Equal((0, SentBatch.Lost), (batch.Open, batch.Ended));
    }

    [Fact]
    public void TryTake_AfterTheBatchEnded_SaysHowItEndedForCallsItGaveUp()
    {
        var batch = new SentBatch(1, [0, 1], [10, 11]);
        batch.TryTake(0, out _);
        batch.End(SentBatch.Stopped);

        Assert.True(batch.TryTake(1, out int givenUpAs));
        Assert.Equal(SentBatch.Stopped, givenUpAs);
        Assert.False(batch.TryTake(0, out _));
        Assert.False(batch.TryTake(1, out _));
    }
}
