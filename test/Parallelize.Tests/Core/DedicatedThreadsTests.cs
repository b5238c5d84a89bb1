using Parallelize.Core;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Core;

public sealed class DedicatedThreadsTests
{
    private static readonly AsyncLocal<string?> s_left = new();

    [Fact(Timeout = Timeouts.Test)]
    public async Task Run_AThreadParkedByAnEarlierPiece_StartsTheNextFromTheEmptyContext()
    {
        var first = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        DedicatedThreads.Run(
            _ =>
            {
                s_left.Value = "left behind by the first piece";
                first.SetResult(Environment.CurrentManagedThreadId);
            },
            this,
            "first");
        await first.Task.WaitAsync(Timeouts.Hang);
        await Timeouts.Until(() => DedicatedThreads.IdleCount > 0, "a thread parks");

        var second = new TaskCompletionSource<(string?, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
        DedicatedThreads.Run(_ => second.SetResult((s_left.Value, Environment.CurrentManagedThreadId)), this, "second");
        (string? seen, _) = await second.Task.WaitAsync(Timeouts.Hang);

        Assert.Null(seen);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pool_OnThreadsAnEarlierPoolUsed_IsNotTakenForThatPool()
    {
        // The first pool's executor thread goes back to the dedicated threads; the second pool's executor, perhaps on
        // that very thread, may wait for the first pool (it is not inside it) and sees nothing the first left behind.
        var firstPool = new Parallelize<int, int>(x =>
        {
            s_left.Value = "first pool";
            return x;
        }, count: 1);
        firstPool.Invoke(1);
        await firstPool.WaitAsync();
        await firstPool.DisposeAsync();

        using var other = new Parallelize<int, int>(x => x, count: 1);
        using var secondPool = new Parallelize<int, string>(x =>
        {
            other.Invoke(x);
            other.Wait();
            return s_left.Value ?? "nothing";
        }, count: 1);
        secondPool.Invoke(2);
        await secondPool.WaitAsync();

        Assert.Equal(["nothing"], secondPool.Results);
    }
}
