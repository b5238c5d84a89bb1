using System.Collections.Concurrent;
using System.Diagnostics;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Telemetry;

/// <summary>The caller's execution context flows into its calls, and each call gets a span parented on the caller's activity.</summary>
public sealed class TracingAndContextTests
{
    private static readonly AsyncLocal<string?> s_who = new();

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AsyncLocal_SetByTheCaller_FlowsIntoItsCalls(bool asynchronous)
    {
        using Parallelize<int, string?> pool = asynchronous
            ? new Parallelize<int, string?>(
                async (x, token) =>
                {
                    await Task.Yield();
                    return s_who.Value;
                },
                2)
            : new Parallelize<int, string?>(x => s_who.Value, 2);

        // Two callers with values of their own, and one with none.
        await Task.WhenAll(
            Task.Run(() => Call(pool, "alice", 0)),
            Task.Run(() => Call(pool, "bob", 100)),
            Task.Run(() => Call(pool, null, 200)));
        await pool.WaitAsync();

        Assert.Equal(50, pool.Results.Count(r => r == "alice"));
        Assert.Equal(50, pool.Results.Count(r => r == "bob"));
        Assert.Equal(50, pool.Results.Count(r => r is null));

        static void Call(Parallelize<int, string?> pool, string? who, int from)
        {
            s_who.Value = who;
            for (int i = from; i < from + 50; i++)
            {
                pool.Invoke(i);
            }
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task FlowExecutionContext_Off_CallsRunInTheExecutorsOwnContext()
    {
        using var pool = new Parallelize<int, string?>(x => s_who.Value, 1, new ParallelizeOptions { FlowExecutionContext = false });
        await Task.Run(() =>
        {
            s_who.Value = "caller";
            pool.Invoke(1);
        });
        await pool.WaitAsync();

        Assert.Null(Assert.Single(pool.Results));
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Wait_FromACallThatRunsInItsCallersContext_IsStillRefused(bool asynchronous)
    {
        Parallelize<int, string>? self = null;
        string Try()
        {
            try
            {
                self!.Wait(TimeSpan.FromSeconds(1));
                return "waited";
            }
            catch (InvalidOperationException ex)
            {
                return ex.Message;
            }
        }

        using var pool = asynchronous
            ? new Parallelize<int, string>(
                async (x, token) =>
                {
                    await Task.Yield();
                    return Try();
                },
                1)
            : new Parallelize<int, string>(x => Try(), 1);
        self = pool;
        await Task.Run(() =>
        {
            s_who.Value = "a caller with a context of its own";
            pool.Invoke(1);
        });
        await pool.WaitAsync();

        Assert.Contains("from inside one of this pool's own executors", Assert.Single(pool.Results), StringComparison.Ordinal);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Span_PerAttempt_IsAChildOfTheCallersActivityWithAttemptExecutorAndOutcome(bool asynchronous, bool flow)
    {
        string name = $"traced-{asynchronous}-{flow}-{Guid.NewGuid():N}";
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(spans, name);
        var options = new ParallelizeOptions { Name = name, RetryDelay = TimeSpan.Zero, FlowExecutionContext = flow };
        int calls = 0;
        Func<int, int> run = x => x == 2 && Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("first attempt fails") : x;
        using Parallelize<int, int> pool = asynchronous
            ? new Parallelize<int, int>(
                async (x, token) =>
                {
                    await Task.Yield();
                    return run(x);
                },
                1,
                options)
            : new Parallelize<int, int>(run, 1, options);
        using var source = new ActivitySource("Parallelize.Tests.Caller");
        using var callerListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(callerListener);
        string traceId;
        string parentSpanId;
        using (Activity caller = source.StartActivity("job")!)
        {
            traceId = caller.TraceId.ToString();
            parentSpanId = caller.SpanId.ToString();
            pool.Invoke(1);
            pool.Invoke(2);
        }

        await pool.WaitAsync();
        await Timeouts.Until(() => spans.Count == 3, "a span for each of the three attempts");

        Assert.All(spans, span =>
        {
            Assert.Equal(ParallelizeTracing.CallActivityName, span.OperationName);
            Assert.Equal(traceId, span.TraceId.ToString());
            Assert.Equal(parentSpanId, span.ParentSpanId.ToString());
            Assert.Equal(0, span.GetTagItem(ParallelizeTracing.ExecutorTag));
        });
        Activity[] two = [.. spans.Where(s => (long)s.GetTagItem(ParallelizeTracing.CallIdTag)! == 2).OrderBy(s => (int)s.GetTagItem(ParallelizeTracing.AttemptTag)!)];
        Assert.Equal([1, 2], two.Select(s => (int)s.GetTagItem(ParallelizeTracing.AttemptTag)!));
        Assert.Equal(["failure", "result"], two.Select(s => (string)s.GetTagItem(ParallelizeTracing.OutcomeTag)!));
        Assert.Equal(ActivityStatusCode.Error, two[0].Status);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Span_NoListener_NoneIsMadeAndTheCallSeesItsCallersActivity()
    {
        using var source = new ActivitySource("Parallelize.Tests.Caller.Unheard");
        using var callerListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(callerListener);
        using var pool = new Parallelize<int, string?>(x => Activity.Current?.OperationName, 1);
        using (source.StartActivity("job"))
        {
            pool.Invoke(1);
        }

        await pool.WaitAsync();

        // Without a listener on the Parallelize source the call runs under the caller's own activity, untouched.
        Assert.Equal("job", Assert.Single(pool.Results));
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> spans, string poolName)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ParallelizeTracing.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem(ParallelizeMetrics.PoolNameTag), poolName))
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
