using Parallelize.Orleans.Client;

namespace Parallelize.Orleans.Tests.Client;

public sealed class ClusterCountersTests
{
    [Fact]
    public void Sent_OfCallsLostBefore_CountsThemAsRedispatchedOnce()
    {
        var counters = new ClusterCounters();
        NodeCounters dead = counters.Node("S1");
        NodeCounters live = counters.Node("S2", "silo2");
        counters.Sent(dead, [1, 2, 3]);
        counters.Lost(dead, [2, 3]);

        counters.Sent(live, [2, 4]);
        counters.Sent(live, [2, 3]);

        ClusterStatistics stats = counters.Snapshot(node => (node == "S2", 1));
        Assert.Equal((7L, 3L, 2L, 2L), (stats.Dispatched, stats.Batches, stats.Lost, stats.Redispatched));
        Assert.Equal(["S1", "S2"], stats.Nodes.Select(static n => n.Node));
        Assert.Equal((3L, 1L, 2L, false), (stats.Nodes[0].Dispatched, stats.Nodes[0].Batches, stats.Nodes[0].Lost, stats.Nodes[0].IsActive));
        Assert.Equal((4L, 2L, "silo2", true), (stats.Nodes[1].Dispatched, stats.Nodes[1].Batches, stats.Nodes[1].SiloName, stats.Nodes[1].IsActive));
    }

    [Fact]
    public void NotLostAfterAll_CallWhoseReplyRacedTheLoss_IsNoLongerLostNorAwaitedAgain()
    {
        var counters = new ClusterCounters();
        NodeCounters node = counters.Node("S1");
        counters.Sent(node, [5]);
        counters.Lost(node, [5]);

        counters.NotLostAfterAll(node, 5);
        counters.Succeeded(node);
        counters.Sent(node, [5]);

        ClusterStatistics stats = counters.Snapshot(_ => (true, 1));
        Assert.Equal((0L, 0L, 1L), (stats.Lost, stats.Redispatched, stats.Succeeded));
        Assert.Equal((0L, 1L), (stats.Nodes[0].Lost, stats.Nodes[0].Succeeded));
    }

    [Fact]
    public void Snapshot_EveryCount_IsReportedInAllAndPerSilo()
    {
        var counters = new ClusterCounters();
        NodeCounters node = counters.Node("S1");
        counters.Sent(node, [1, 2, 3, 4]);
        counters.Succeeded(node);
        counters.Failed(node);
        counters.LateReply(node);
        counters.CancelledByStop(2);
        counters.RecoveredReply();
        counters.Resent();

        ClusterStatistics stats = counters.Snapshot(_ => (true, 1));

        Assert.Equal((4L, 1L, 1L, 1L, 2L, 1L, 1L, 1L), (stats.Dispatched, stats.Batches, stats.Succeeded, stats.Failed, stats.CancelledByStop, stats.LateReplies, stats.RecoveredReplies, stats.Resent));
        NodeStatistics perNode = Assert.Single(stats.Nodes);
        Assert.Equal((1L, 1L, 1L, 1), (perNode.Succeeded, perNode.Failed, perNode.LateReplies, perNode.Executors));
    }
}
