using Parallelize.Orleans.Client;

namespace Parallelize.Orleans.Tests.Client;

public sealed class CallLedgerTests
{
    [Fact]
    public void TryComplete_AfterLoss_IsRefusedAndCountedAsALateReply()
    {
        var ledger = new CallLedger<int>();
        NodeCounters node = ledger.Node("S1");
        CallEntry<int> entry = ledger.Dispatch(5, 0, node);

        Assert.True(ledger.TryLose(entry));
        Assert.False(ledger.TryComplete(entry));
        Assert.False(ledger.TryCancelByStop(entry));

        ClusterStatistics stats = ledger.Snapshot(_ => (true, 1));
        Assert.Equal((1, 0, 1, 1, 0), (stats.Dispatched, stats.Completed, stats.Lost, stats.LateReplies, stats.InFlight));
        Assert.Equal((1, 1), (stats.Nodes.Single().Lost, stats.Nodes.Single().LateReplies));
    }

    [Fact]
    public void Dispatch_OfALostInput_CountsItAsRedispatchedAndNoLongerUnknown()
    {
        var ledger = new CallLedger<int>();
        NodeCounters node = ledger.Node("S1");
        ledger.TryLose(ledger.Dispatch(5, 0, node));

        CallEntry<int> again = ledger.Dispatch(5, 1, ledger.Node("S2"));
        ledger.TryComplete(again);

        Assert.Equal(1, ledger.Snapshot(_ => (true, 1)).Redispatched);
        ClusterStopResult<int> split = ledger.Split([]);
        Assert.Empty(split.OutcomeUnknown);
    }

    [Fact]
    public void Split_CallsCancelledByStopOrLostAndNotResent_AreOutcomeUnknownInCallOrder()
    {
        var ledger = new CallLedger<int>();
        NodeCounters node = ledger.Node("S1");
        ledger.TryCancelByStop(ledger.Dispatch(7, 0, node));
        ledger.TryLose(ledger.Dispatch(3, 1, node));
        ledger.TryComplete(ledger.Dispatch(4, 2, node));

        ClusterStopResult<int> split = ledger.Split([1, 3, 5, 7, 9]);

        Assert.Equal([3, 7], split.OutcomeUnknown);
        Assert.Equal([1, 5, 9], split.NeverStarted);
        Assert.Equal(5, split.Count);
    }

    [Fact]
    public void Split_EqualInputsAbortedTwiceWithOneRunning_CountsOnlyOneAsUnknown()
    {
        var ledger = new CallLedger<string>();
        ledger.TryCancelByStop(ledger.Dispatch("a", 0, ledger.Node("S1")));

        ClusterStopResult<string> split = ledger.Split(["a", "a", "b"]);

        Assert.Equal(["a"], split.OutcomeUnknown);
        Assert.Equal(["a", "b"], split.NeverStarted);
    }

    [Fact]
    public void Split_UnknownInputThatThePoolCompleted_IsNotInTheSplit()
    {
        var ledger = new CallLedger<int>();
        ledger.TryCancelByStop(ledger.Dispatch(8, 0, ledger.Node("S1")));

        // The pool kept 8's result (its worker claimed it first), so 8 is not among the aborted.
        ClusterStopResult<int> split = ledger.Split([2]);

        Assert.Equal([2], split.NeverStarted);
        Assert.Empty(split.OutcomeUnknown);
    }

    [Fact]
    public void Snapshot_CallsInEveryState_AddsUpToDispatched()
    {
        var ledger = new CallLedger<int>();
        NodeCounters node = ledger.Node("S1", "silo1");
        ledger.TryComplete(ledger.Dispatch(1, 0, node));
        ledger.TryFail(ledger.Dispatch(2, 0, node));
        ledger.TryLose(ledger.Dispatch(3, 0, node));
        ledger.TryCancelByStop(ledger.Dispatch(4, 0, node));
        ledger.Dispatch(5, 0, node);

        ClusterStatistics stats = ledger.Snapshot(_ => (false, 0));

        Assert.Equal((5L, 1L, 1L, 1L, 1L, 1L), (stats.Dispatched, stats.Completed, stats.Failed, stats.Lost, stats.CancelledByStop, stats.InFlight));
        NodeStatistics perNode = Assert.Single(stats.Nodes);
        Assert.Equal(("S1", "silo1", false), (perNode.Node, perNode.SiloName, perNode.IsActive));
    }
}
