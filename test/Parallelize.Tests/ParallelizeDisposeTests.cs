using Moq;
using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeDisposeTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Dispose_WithQueuedWork_WaitsForItThenStops()
    {
        var work = new GatedFunction();
        var pool = new Parallelize<int, int>(work.Run, count: 2);
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        Task disposing = Task.Run(pool.Dispose);
        Assert.False(disposing.IsCompleted);
        work.Gate.Open();
        await disposing;

        Assert.Equal(20, pool.Results.Count);
        Assert.Throws<ObjectDisposedException>(() => pool.Invoke(1));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task DisposeAsync_WithQueuedWork_WaitsForItThenStops()
    {
        var gate = new Gate();
        var pool = new Parallelize<int, int>(
            async (x, token) =>
            {
                await gate.PassAsync(token);
                return x;
            },
            count: 2);
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        ValueTask disposing = pool.DisposeAsync();
        Assert.False(disposing.IsCompleted);
        gate.Open();
        await disposing;

        Assert.Equal(20, pool.Results.Count);
        Assert.Throws<ObjectDisposedException>(() => pool.Invoke(1));
        await pool.DisposeAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Dispose_Twice_OrAfterStop_DoesNothingMore()
    {
        var executor = new Mock<IExecutor<int, int>>();
        Mock<IDisposable> disposable = executor.As<IDisposable>();
        var pool = new Parallelize<int, int>([executor.Object]);
        await pool.StopAsync();

        pool.Dispose();
        pool.Dispose();

        disposable.Verify(d => d.Dispose(), Times.Once);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Dispose_FaultedWithQueuedCalls_NeverThrowsAndKeepsTheAbortedInputsReadable()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };
        var tried = new Gate();
        var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() =>
            {
                tried.Pass();
                throw new InvalidOperationException("cannot connect");
            })],
            options);
        pool.Invoke(1);
        pool.Invoke(2);
        tried.Open();

        await Task.Run(pool.Dispose);

        Assert.Equal([1, 2], pool.Aborted);
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
        Assert.Throws<ObjectDisposedException>(() => pool.Invoke(3));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task DisposeAsync_FaultedWithQueuedCalls_NeverThrowsAndKeepsTheAbortedInputsReadable()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };
        var tried = new Gate();
        var pool = new Parallelize<int, int>([Deferred.Create<int, int>(() =>
        {
            tried.Pass();
            throw new InvalidOperationException("cannot connect");
        })], options);
        pool.Invoke(1);
        tried.Open();

        await pool.DisposeAsync();

        Assert.Equal([1], pool.Aborted);
    }

    [Fact]
    public void Dispose_LeavingAUsingBlockWithAnException_NeverReplacesIt()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };
        Parallelize<int, int>? kept = null;
        var tried = new Gate();

        var thrown = Assert.Throws<TimeoutException>((Action)(() =>
        {
            using var pool = new Parallelize<int, int>([Deferred.Create<int, int>(() =>
            {
                tried.Pass();
                throw new InvalidOperationException("cannot connect");
            })], options);
            kept = pool;
            pool.Invoke(7);
            tried.Open();
            throw new TimeoutException("the caller's own failure");
        }));

        Assert.Equal("the caller's own failure", thrown.Message);
        Assert.Equal([7], kept!.Aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task DisposeAsync_AsyncDisposableExecutor_IsDisposedAsynchronously()
    {
        var executor = new Mock<IAsyncExecutor<int, int>>();
        executor.Setup(e => e.ExecuteAsync(It.IsAny<int>(), It.IsAny<CancellationToken>())).Returns<int, CancellationToken>((x, _) => ValueTask.FromResult(x));
        Mock<IAsyncDisposable> disposable = executor.As<IAsyncDisposable>();
        disposable.Setup(d => d.DisposeAsync()).Returns(ValueTask.CompletedTask);
        var pool = new Parallelize<int, int>([executor.Object]);
        pool.Invoke(4);

        await pool.DisposeAsync();

        Assert.Equal([4], pool.Results);
        disposable.Verify(d => d.DisposeAsync(), Times.Once);
    }
}
