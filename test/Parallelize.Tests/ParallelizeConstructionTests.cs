namespace Parallelize.Tests;

public sealed class ParallelizeConstructionTests
{
    [Fact]
    public void Constructor_NullExecutors_ThrowsArgumentNullNamingExecutors()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new Parallelize<int, int>((IEnumerable<Func<int, int>>)null!));
        Assert.Equal("executors", ex.ParamName);
    }

    [Fact]
    public void Constructor_NoExecutors_ThrowsArgumentExceptionNamingExecutors()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Parallelize<int, int>(Array.Empty<Func<int, int>>()));
        Assert.Equal("executors", ex.ParamName);
        Assert.Contains("At least one executor", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullExecutorInList_ThrowsArgumentExceptionNamingItsIndex()
    {
        Func<int, int>[] executors = [x => x, null!];
        var ex = Assert.Throws<ArgumentException>(() => new Parallelize<int, int>(executors));
        Assert.Equal("executors", ex.ParamName);
        Assert.Contains("index 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_CountBelowOne_ThrowsArgumentOutOfRangeNamingCount()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Parallelize<int, int>(x => x, count: 0));
        Assert.Equal("count", ex.ParamName);
    }

    [Fact]
    public void Constructor_NullFunctionWithCount_ThrowsArgumentNullNamingExecutor()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new Parallelize<int, int>((Func<int, int>)null!, count: 2));
        Assert.Equal("executor", ex.ParamName);
    }

    [Fact]
    public void ExecutorCreate_NullArguments_ThrowArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => Executor.Create((Func<int, int>)null!));
        Assert.Throws<ArgumentNullException>(() => Executor.Create((Func<int, CancellationToken, int>)null!));
        Assert.Throws<ArgumentNullException>(() => Executor.Create((Func<int, CancellationToken, ValueTask<int>>)null!));
        Assert.Throws<ArgumentNullException>(() => Executor.Create((IExecutor<int, int>)null!));
        Assert.Throws<ArgumentNullException>(() => Executor.Create((IAsyncExecutor<int, int>)null!));
        Assert.Throws<ArgumentNullException>(() => Deferred.Create((Func<IExecutor<int, int>>)null!));
        Assert.Throws<ArgumentNullException>(() => Deferred.Create((Func<CancellationToken, ValueTask<IAsyncExecutor<int, int>>>)null!));
    }

    [Fact]
    public void Executor_Kinds_AreDescribedCorrectly()
    {
        Executor<int, int> plain = (Func<int, int>)(x => x);
        Executor<int, int> async = (Func<int, CancellationToken, ValueTask<int>>)((x, _) => ValueTask.FromResult(x));
        Executor<int, int> deferred = Deferred.Create<int, int>(() => new Doubler());

        Assert.False(plain.IsDeferred);
        Assert.False(plain.IsAsynchronous);
        Assert.True(async.IsAsynchronous);
        Assert.True(deferred.IsDeferred);
        Assert.False(deferred.IsAsynchronous);
    }

    [Fact]
    public void Options_Defaults_AreTheDocumentedValues()
    {
        var options = new ParallelizeOptions();

        Assert.Equal(3, options.MaxAttempts);
        Assert.Equal(5, options.MaxRestarts);
        Assert.Equal(TimeSpan.FromMinutes(1), options.RestartWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.RestartBackoff);
        Assert.Equal(TimeSpan.FromSeconds(1), options.MaxRestartBackoff);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void Options_InvalidValues_ThrowNamingTheProperty()
    {
        Assert.Equal("MaxAttempts", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { MaxAttempts = 0 }).ParamName);
        Assert.Equal("MaxRestarts", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { MaxRestarts = -1 }).ParamName);
        Assert.Equal("RestartWindow", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { RestartWindow = TimeSpan.Zero }).ParamName);
        Assert.Equal("RestartBackoff", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { RestartBackoff = TimeSpan.FromTicks(-1) }).ParamName);
        Assert.Equal("MaxRestartBackoff", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { MaxRestartBackoff = TimeSpan.FromTicks(-1) }).ParamName);
        Assert.Equal("TimeProvider", Assert.Throws<ArgumentNullException>(() => new ParallelizeOptions { TimeProvider = null! }).ParamName);
    }

    [Fact]
    public void Options_BackoffLongerThanATimerSupports_ThrowsNamingTheProperty()
    {
        TimeSpan tooLong = TimeSpan.FromDays(50);

        Assert.Equal("RestartBackoff", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { RestartBackoff = tooLong }).ParamName);
        Assert.Equal("MaxRestartBackoff", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { MaxRestartBackoff = tooLong }).ParamName);
        Assert.Equal(TimeSpan.FromDays(49), new ParallelizeOptions { MaxRestartBackoff = TimeSpan.FromDays(49) }.MaxRestartBackoff);
    }

    [Fact]
    public void Options_WithExpression_ValidatesToo()
    {
        var options = new ParallelizeOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => options with { MaxAttempts = -3 });
        Assert.Equal(7, (options with { MaxAttempts = 7 }).MaxAttempts);
    }

    [Fact]
    public void ParallelizeException_Constructors_KeepMessageAndCauses()
    {
        var cause = new InvalidOperationException("cause");
        Assert.Empty(new ParallelizeException().InnerExceptions);
        Assert.Equal("m", new ParallelizeException("m").Message);
        Assert.Same(cause, Assert.Single(new ParallelizeException("m", cause).InnerExceptions));
        var many = new ParallelizeException("m", [cause, new TimeoutException()]);
        Assert.Equal(2, many.InnerExceptions.Count);
        Assert.Same(cause, many.InnerException);
        Assert.Throws<ArgumentNullException>(() => new ParallelizeException("m", (IEnumerable<Exception>)null!));
        Assert.IsAssignableFrom<InvalidOperationException>(many);
    }

    [Fact]
    public void RetryException_Constructors_DescribeTheRetry()
    {
        Assert.False(new RetryException().HasReplacementInput);
        Assert.Equal("why", new RetryException("why").Message);
        Assert.IsType<TimeoutException>(new RetryException("why", new TimeoutException()).InnerException);
        RetryException replaced = RetryException.WithInput(42);
        Assert.True(replaced.HasReplacementInput);
        Assert.Equal(42, replaced.ReplacementInput);
    }

    private sealed class Doubler : IExecutor<int, int>
    {
        public int Execute(int input, CancellationToken cancellationToken) => input * 2;
    }
}
