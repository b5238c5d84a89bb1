using Parallelize.Supervision;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Supervision;

public sealed class RestartTrackerTests
{
    private readonly ManualTimeProvider _clock = new();

    [Fact]
    public void TryRestart_ConsecutiveFaults_FirstIsImmediateThenBackoffDoublesUpToTheMaximum()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 10));

        var delays = Enumerable.Range(0, 6).Select(_ =>
        {
            Assert.True(tracker.TryRestart(out TimeSpan delay));
            return (int)delay.TotalMilliseconds;
        }).ToArray();

        Assert.Equal([0, 10, 20, 40, 50, 50], delays);
    }

    [Fact]
    public void TryRestart_MoreThanMaxRestartsWithinTheWindow_Retires()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 3));

        Assert.True(tracker.TryRestart(out _));
        Assert.True(tracker.TryRestart(out _));
        Assert.True(tracker.TryRestart(out _));
        Assert.False(tracker.TryRestart(out _));
    }

    [Fact]
    public void TryRestart_RestartsOlderThanTheWindow_AreForgotten()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 2));
        Assert.True(tracker.TryRestart(out _));
        Assert.True(tracker.TryRestart(out _));

        _clock.Advance(TimeSpan.FromSeconds(61));

        Assert.True(tracker.TryRestart(out _));
    }

    [Fact]
    public void OnSuccess_AfterRestarts_ClearsTheHistoryAndTheBackoff()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 2));
        Assert.True(tracker.TryRestart(out _));
        Assert.True(tracker.TryRestart(out TimeSpan second));

        tracker.OnSuccess();

        Assert.True(tracker.TryRestart(out TimeSpan afterSuccess));
        Assert.Equal(TimeSpan.FromMilliseconds(10), second);
        Assert.Equal(TimeSpan.Zero, afterSuccess);
        Assert.True(tracker.TryRestart(out _));
        Assert.False(tracker.TryRestart(out _));
    }

    [Fact]
    public void TryRestart_ZeroMaxRestarts_RetiresAtTheFirstFault()
    {
        var tracker = new RestartTracker(Options(maxRestarts: 0));

        Assert.False(tracker.TryRestart(out _));
    }

    [Fact]
    public void TryRestart_HugeBackoff_IsCappedWithoutOverflow()
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
            Assert.True(tracker.TryRestart(out last));
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
