using Parallelize.Supervision;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Supervision;

public sealed class RestartTrackerTests
{
    private readonly ManualTimeProvider _clock = new();

    [Fact]
    public void NextRestartDelay_ConsecutiveRestarts_FirstIsImmediateThenBackoffDoublesUpToTheMaximum()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 10));

        int[] delays = [.. Enumerable.Range(0, 6).Select(_ => (int)tracker.NextRestartDelay().TotalMilliseconds)];

        Assert.Equal([0, 10, 20, 40, 50, 50], delays);
    }

    [Fact]
    public void TryCharge_MoreThanMaxRestartsWithinTheWindow_Retires()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 3));

        Assert.True(tracker.TryCharge());
        Assert.True(tracker.TryCharge());
        Assert.True(tracker.TryCharge());
        Assert.False(tracker.TryCharge());
    }

    [Fact]
    public void TryCharge_ChargesOlderThanTheWindow_AreForgotten()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 2));
        Assert.True(tracker.TryCharge());
        Assert.True(tracker.TryCharge());

        _clock.Advance(TimeSpan.FromSeconds(61));

        Assert.True(tracker.TryCharge());
    }

    [Fact]
    public void OnSuccess_AfterCharges_ClearsTheHistoryAndTheBackoff()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 2));
        Assert.True(tracker.TryCharge());
        Assert.True(tracker.TryCharge());
        tracker.NextRestartDelay();
        TimeSpan second = tracker.NextRestartDelay();

        tracker.OnSuccess();

        Assert.Equal(TimeSpan.FromMilliseconds(10), second);
        Assert.Equal(TimeSpan.Zero, tracker.NextRestartDelay());
        Assert.True(tracker.TryCharge());
        Assert.True(tracker.TryCharge());
        Assert.False(tracker.TryCharge());
    }

    [Fact]
    public void TryCharge_ZeroMaxRestarts_RetiresAtTheFirstBlamedFault()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 0));

        Assert.False(tracker.TryCharge());
    }

    [Fact]
    public void NextRestartDelay_HugeBackoff_IsCappedWithoutOverflow()
    {
        var tracker = new RestartTracker(new ParallelizeOptions
        {
            TimeProvider = _clock,
            MaxRestarts = 100,
            RestartBackoff = TimeSpan.FromDays(40),
            MaxRestartBackoff = TimeSpan.FromDays(49),
        });

        TimeSpan last = TimeSpan.Zero;
        for (int i = 0; i < 40; i++)
        {
            last = tracker.NextRestartDelay();
        }

        Assert.Equal(TimeSpan.FromDays(49), last);
    }

    private ParallelizeOptions Options(int maxRestarts) => new()
    {
        TimeProvider = _clock,
        MaxRestarts = maxRestarts,
        RestartWindow = TimeSpan.FromMinutes(1),
        RestartBackoff = TimeSpan.FromMilliseconds(10),
        MaxRestartBackoff = TimeSpan.FromMilliseconds(50),
    };
}
