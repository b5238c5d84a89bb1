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
    public async Task Add_OnManyThreadsAtOnce_NeverReturnsWithTheIdleSignalStillSet()
    {
        // More threads than cores, so that a thread is often preempted in the middle of Add: the first version reset
        // the signal only on the 0 -> 1 step, and a second Add could return before that reset.
        var tracker = new PendingTracker();
        long stale = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; i < 200_000; i++)
                {
                    tracker.Add();
                    if (tracker.IdleTask.IsCompleted)
                    {
                        Interlocked.Increment(ref stale);
                    }

                    tracker.Remove(1);
                }
            },
            TaskCreationOptions.LongRunning)));

        Assert.Equal(0, stale);
        Assert.Equal(0, tracker.Count);
        Assert.True(tracker.IdleTask.IsCompleted);
    }
}
