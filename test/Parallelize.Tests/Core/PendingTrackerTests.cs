using Parallelize.Core;

namespace Parallelize.Tests.Core;

public sealed class PendingTrackerTests
{
    [Fact]
    public void IdleTask_NothingPending_IsCompleted()
    {
        var tracker = new PendingTracker();

        Assert.True(tracker.IdleTask.IsCompleted);
        Assert.Equal(0, tracker.Count);
    }

    [Fact]
    public void IdleTask_CompletesOnlyWhenTheLastPendingCallEnds()
    {
        var tracker = new PendingTracker();
        tracker.Add();
        tracker.Add();
        Task idle = tracker.IdleTask;

        Assert.False(idle.IsCompleted);
        tracker.Remove(1);
        Assert.False(idle.IsCompleted);
        tracker.Remove(1);

        Assert.True(idle.IsCompleted);
        tracker.Remove(0);
        Assert.True(tracker.IdleTask.IsCompleted);
    }

    [Fact(Timeout = 60_000)]
    public async Task AddAndRemove_FromManyThreads_EndIdleWithTheSignalSet()
    {
        var tracker = new PendingTracker();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                tracker.Add();
                Assert.False(tracker.IdleTask.IsCompleted);
                tracker.Remove(1);
            }
        })));

        Assert.Equal(0, tracker.Count);
        Assert.True(tracker.IdleTask.IsCompleted);
    }
}
