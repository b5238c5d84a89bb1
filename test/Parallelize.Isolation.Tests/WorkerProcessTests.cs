using System.Buffers;
using Parallelize.Isolation.Tests.Support;
using Parallelize.Isolation.Tests.Workers;

namespace Parallelize.Isolation.Tests;

/// <summary>
/// The worker client on its own, as an executor slot will use it: many calls in flight at once, replies matched by
/// id, the loss reported with the exit code, and a graceful or hard end.
/// </summary>
public sealed class WorkerProcessTests : IsolationTest
{
    private static readonly IsolationOptions Options = new();

    [Fact(Timeout = Timeouts.Test)]
    public async Task SendAsync_ManyCallsInFlight_EachReplyComesBackUnderItsOwnId()
    {
        await using WorkerProcess worker = await StartAsync();
        var codec = Options.Codecs.GetCodec<Job>();
        var replies = new List<(int Id, Task<WorkerReply> Reply)>();
        var frame = new ArrayBufferWriter<byte>();

        for (int i = 0; i < 200; i++)
        {
            long id = worker.NextCallId();
            Frame.Begin(frame);
            codec.Encode(new Job(i), frame);
            replies.Add((i, worker.SendAsync(id, Frame.End(frame, FrameKind.Call, id).Span, null, WorkerExitReason.CallTimeout, CancellationToken.None)));
        }

        var results = Options.Codecs.GetCodec<Reply>();
        foreach ((int id, Task<WorkerReply> reply) in replies)
        {
            WorkerReply done = await reply.WaitAsync(Timeouts.Hang);
            Assert.False(done.IsLost);
            Assert.Equal(FrameKind.Result, done.Kind);
            Assert.Equal(id, results.Decode(done.Payload).Id);
        }

        Assert.Equal(201, worker.Calls); // the calls and the create
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Lost_ProcessKilledWithCallsInFlight_FailsThemAllAndReportsTheSignal()
    {
        WorkerProcess worker = await StartAsync();
        var frame = new ArrayBufferWriter<byte>();
        var codec = Options.Codecs.GetCodec<Job>();
        long blocked = worker.NextCallId();
        Frame.Begin(frame);
        codec.Encode(new Job(1, "block", Ready: PathFor("ready")), frame);
        Task<WorkerReply> first = worker.SendAsync(blocked, Frame.End(frame, FrameKind.Call, blocked).Span, null, WorkerExitReason.CallTimeout, CancellationToken.None);
        long queued = worker.NextCallId();
        Frame.Begin(frame);
        codec.Encode(new Job(2), frame);
        Task<WorkerReply> second = worker.SendAsync(queued, Frame.End(frame, FrameKind.Call, queued).Span, null, WorkerExitReason.CallTimeout, CancellationToken.None);
        await WaitForFileAsync(PathFor("ready"));

        Native.Kill(worker.ProcessId, 9);
        WorkerExit exit = await worker.Lost.WaitAsync(Timeouts.Hang);

        Assert.Equal(137, exit.ExitCode);
        Assert.Equal(9, exit.Signal);
        Assert.Equal(WorkerExitReason.Crashed, exit.Reason);
        Assert.Same(exit, (await first).Exit);
        Assert.Same(exit, (await second).Exit);
        Assert.True(worker.IsLost);
        WorkerReply late = await worker.SendAsync(worker.NextCallId(), frame.WrittenSpan, null, WorkerExitReason.CallTimeout, CancellationToken.None);
        Assert.Same(exit, late.Exit);
        await worker.DisposeAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ShutdownAsync_IdleWorker_ExitsByItselfWithCodeZero()
    {
        WorkerProcess worker = await StartAsync();

        WorkerExit exit = await worker.ShutdownAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(WorkerExitReason.Shutdown, exit.Reason);
        await worker.DisposeAsync();
    }

    private static async Task<WorkerProcess> StartAsync()
    {
        var launch = WorkerLaunch.For(typeof(WorkerProcessTests).Assembly);
        WorkerProcess worker = await WorkerProcess.StartAsync(launch, Options, CancellationToken.None);
        var spec = new ExecutorSpec
        {
            InputType = typeof(Job).AssemblyQualifiedName!,
            OutputType = typeof(Reply).AssemblyQualifiedName!,
            Codec = typeof(JsonWireCodecProvider).AssemblyQualifiedName!,
            ExecutorType = typeof(ScriptedExecutor).AssemblyQualifiedName,
        };
        WorkerReply created = await worker.SendAsync(0, Frame.Build(new ArrayBufferWriter<byte>(), FrameKind.Create, 0, spec.ToJson()).Span, null, WorkerExitReason.StartTimeout, CancellationToken.None);
        Assert.Equal(FrameKind.Created, created.Kind);
        return worker;
    }
}
