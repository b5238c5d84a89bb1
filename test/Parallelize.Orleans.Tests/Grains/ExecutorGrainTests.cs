using Orleans.TestingHost;
using Parallelize.Orleans.Grains;
using Parallelize.Orleans.Tests.Support;

namespace Parallelize.Orleans.Tests.Grains;

/// <summary>The executor grain on its own: probes that fence off a batch lost on the way, and find a reply lost on the way back.</summary>
[Collection(ClusterTests.Name)]
public sealed class ExecutorGrainTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task ProbeAsync_BatchNotReceived_FencesItOffSoItNeverRuns()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(1);
        using Scenario scenario = Scenario.Begin(new Scenario());
        IExecutorGrain<int, Echo> grain = Grain(cluster, "fence");
        await grain.StartAsync(CancellationToken.None);

        ProbeReply<Echo> probe = await grain.ProbeAsync(100);
        BatchReply<Echo> reply = await grain.ExecuteAsync(new CallBatch<int>(100, [1], [42]));

        Assert.Equal(BatchProgress.NotReceived, probe.Progress);
        Assert.Equal(CallStatus.NotRun, Assert.Single(reply.Outcomes).Status);
        Assert.Empty(scenario.Arrivals);
        BatchReply<Echo> next = await grain.ExecuteAsync(new CallBatch<int>(101, [2], [43]));
        Assert.Equal(43, Assert.Single(next.Outcomes).Result!.Input);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ProbeAsync_BatchRunningThenDone_SaysSoAndHandsTheReplyOver()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(1);
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static _ => true });
        IExecutorGrain<int, Echo> grain = Grain(cluster, "done");
        await grain.StartAsync(CancellationToken.None);

        Task<BatchReply<Echo>> running = grain.ExecuteAsync(new CallBatch<int>(7, [70, 71], [1, 2]));
        await scenario.WaitForArrivalsAsync(1);
        ProbeReply<Echo> whileRunning = await grain.ProbeAsync(7);
        scenario.Open();
        BatchReply<Echo> reply = await running;
        ProbeReply<Echo> afterwards = await grain.ProbeAsync(7);

        Assert.Equal(BatchProgress.Running, whileRunning.Progress);
        Assert.Equal(BatchProgress.Done, afterwards.Progress);
        Assert.Equal([70, 71], afterwards.Reply!.Outcomes.Select(static o => o.CallId));
        Assert.Equal([1, 2], afterwards.Reply.Outcomes.Select(static o => o.Result!.Input));
        Assert.Equal(reply.Outcomes.Select(static o => o.Result), afterwards.Reply.Outcomes.Select(static o => o.Result));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CancelAsync_BatchRunning_CancelsItsCallAndSkipsTheRest()
    {
        await using InProcessTestCluster cluster = await LocalCluster.StartAsync(1);
        using Scenario scenario = Scenario.Begin(new Scenario { Held = static _ => true });
        IExecutorGrain<int, Echo> grain = Grain(cluster, "cancel");

        Task<BatchReply<Echo>> running = grain.ExecuteAsync(new CallBatch<int>(3, [30, 31], [1, 2]));
        await scenario.WaitForArrivalsAsync(1);
        await grain.CancelAsync(3);
        BatchReply<Echo> reply = await running;

        Assert.Equal([CallStatus.Cancelled, CallStatus.NotRun], reply.Outcomes.Select(static o => o.Status));
        Assert.Equal([1], scenario.Cancellations.Select(static c => c.Input));
    }

    private static IExecutorGrain<int, Echo> Grain(InProcessTestCluster cluster, string pool) =>
        cluster.Client.GetGrain<IExecutorGrain<int, Echo>>(new ExecutorKey(pool, 0, 1, typeof(ScenarioExecutor).FullName!).ToString());
}
