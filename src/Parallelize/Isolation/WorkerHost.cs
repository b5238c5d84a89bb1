using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace Parallelize.Isolation;

/// <summary>
/// The worker process's side of the protocol: reads frames on a reader thread, runs the executor on the main
/// thread, one call at a time, and writes one frame per reply.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> The reader thread owns the input stream: it queues creates, calls and the shutdown for the
/// main thread, cancels the running call on a cancel frame, and on the end of its input (the parent is gone) kills
/// the worker's whole process group at once. The main thread owns the output stream and the executor. They share
/// <c>_queue</c> (concurrent) and, under <c>_lock</c>, the running call's id and token source and the ids cancelled
/// before they ran; no user code runs under the lock.</para>
/// <para><b>Test faults.</b> The environment variable <c>PARALLELIZE_WORKER_FAULT</c> makes a worker die while it
/// writes a result (<c>tear-result-once:PATH</c>) or just after a whole result (<c>exit-after-result-once:PATH</c>);
/// the file at PATH is created on the first such death so that the next worker behaves.</para>
/// </remarks>
internal abstract class WorkerHost
{
    private const int ParentGoneExitCode = 0;

    protected WorkerHost(Stream input, Stream output, ExecutorSpec spec)
    {
        Input = input;
        Output = output;
        Spec = spec;
    }

    protected Stream Input { get; }

    protected Stream Output { get; }

    protected ExecutorSpec Spec { get; }

    /// <summary>Runs the worker: the handshake, the first create, then calls until a shutdown.</summary>
    /// <returns>The exit code.</returns>
    public static int Run()
    {
        Stream input;
        Stream output;
        if (Posix.IsSupported)
        {
            // Own process group: the parent kills the group, and this process kills it when the parent is gone.
            Posix.MakeProcessGroupLeader();
            int protocolIn = Posix.DuplicateCloseOnExec(0);
            int protocolOut = Posix.DuplicateCloseOnExec(1);
            Posix.Redirect(2, 1);
            using (SafeFileHandle empty = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read))
            {
                Posix.Redirect((int)empty.DangerousGetHandle(), 0);
            }

            input = new FileStream(new SafeFileHandle(protocolIn, ownsHandle: true), FileAccess.Read, bufferSize: 0);
            output = new FileStream(new SafeFileHandle(protocolOut, ownsHandle: true), FileAccess.Write, bufferSize: 0);
        }
        else
        {
            input = Console.OpenStandardInput();
            output = Console.OpenStandardOutput();
        }

        var hello = new ArrayBufferWriter<byte>();
        hello.Write(Frame.Magic);
        output.Write(hello.WrittenSpan);
        output.Write(Frame.Build(hello, FrameKind.Hello, Environment.ProcessId, []).Span);

        Span<byte> header = stackalloc byte[Frame.HeaderSize];
        if (!Frame.Read(input, header, out FrameKind kind, out _, out byte[] payload) || kind != FrameKind.Create)
        {
            return ParentGoneExitCode;
        }

        ExecutorSpec spec = ExecutorSpec.FromJson(payload);
        Type host = typeof(WorkerHost<,>).MakeGenericType(
            Type.GetType(spec.InputType, throwOnError: true)!,
            Type.GetType(spec.OutputType, throwOnError: true)!);
        var worker = (WorkerHost)Activator.CreateInstance(host, input, output, spec)!;
        return worker.Serve();
    }

    /// <summary>Ends the process and its children at once: the parent is gone, so nothing is left to serve.</summary>
    protected static void ParentGone()
    {
        Posix.Kill(0, Posix.SigKill);
        Posix.ExitNow(ParentGoneExitCode);
    }

    protected abstract int Serve();
}

/// <inheritdoc cref="WorkerHost"/>
#pragma warning disable CA1001 // Lives as long as the process; the process's exit releases everything.
internal sealed class WorkerHost<TIn, TOut> : WorkerHost
#pragma warning restore CA1001
{
    private readonly WireCodecProvider _codecs;
    private readonly IWireCodec<TIn> _inputCodec;
    private readonly IWireCodec<TOut> _outputCodec;
    private readonly ConcurrentQueue<(FrameKind Kind, long Id, byte[] Payload)> _queue = new();
    private readonly SemaphoreSlim _queued = new(0);
    private readonly Lock _lock = new();
    private readonly HashSet<long> _cancelledEarly = [];
    private readonly ArrayBufferWriter<byte> _frame = new(256);
    private readonly string? _fault;
    private readonly string? _faultFile;
    private long _runningId;
    private CancellationTokenSource? _running;
    private object? _instance;
    private Func<TIn, CancellationToken, TOut>? _call;
    private Func<TIn, CancellationToken, ValueTask<TOut>>? _callAsync;

    public WorkerHost(Stream input, Stream output, ExecutorSpec spec)
        : base(input, output, spec)
    {
        _codecs = (WireCodecProvider)Activator.CreateInstance(Type.GetType(spec.Codec, throwOnError: true)!)!;
        _inputCodec = _codecs.GetCodec<TIn>();
        _outputCodec = _codecs.GetCodec<TOut>();
        if (Environment.GetEnvironmentVariable("PARALLELIZE_WORKER_FAULT") is { } fault && fault.Split(':', 2) is [var name, var file])
        {
            _fault = name;
            _faultFile = file;
        }
    }

    protected override int Serve()
    {
        var reader = new Thread(Read, 256 * 1024) { IsBackground = true, Name = "Parallelize worker input" };
        reader.Start();
        Create();
        while (true)
        {
            _queued.Wait();
            _queue.TryDequeue(out (FrameKind Kind, long Id, byte[] Payload) item);
            switch (item.Kind)
            {
                case FrameKind.Create:
                    Create();
                    break;
                case FrameKind.Call:
                    Run(item.Id, item.Payload);
                    break;
                case FrameKind.Shutdown:
                    Release();
                    return 0;
            }
        }
    }

    private void Read()
    {
        try
        {
            Span<byte> header = stackalloc byte[Frame.HeaderSize];
            while (Frame.Read(Input, header, out FrameKind kind, out long id, out byte[] payload))
            {
                if (kind == FrameKind.Cancel)
                {
                    Cancel(id);
                    continue;
                }

                _queue.Enqueue((kind, id, payload));
                _queued.Release();
            }
        }
#pragma warning disable CA1031 // Whatever broke the input, the parent can no longer reach this process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        ParentGone();
    }

    private void Cancel(long id)
    {
        lock (_lock)
        {
            if (_runningId == id)
            {
                _running?.Cancel();
            }
            else
            {
                _cancelledEarly.Add(id);
            }
        }
    }

    private void Create()
    {
        Release();
        try
        {
            object created = Spec.Create(_codecs);
            switch (created)
            {
                case IExecutor<TIn, TOut> executor:
                    _call = executor.Execute;
                    break;
                case IAsyncExecutor<TIn, TOut> executor:
                    _callAsync = executor.ExecuteAsync;
                    break;
                default:
                    (created as IDisposable)?.Dispose();
                    throw new InvalidCastException(
                        $"{created.GetType().FullName} implements neither IExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}> nor IAsyncExecutor<{typeof(TIn).Name}, {typeof(TOut).Name}>.");
            }

            _instance = created;
            Send(FrameKind.Created, 0, []);
        }
#pragma warning disable CA1031 // Reported to the parent, whose restart policy decides.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SendError(FrameKind.CreateFailed, 0, RemoteError.From(ex, cancelled: false, replacement: null));
        }
    }

    private void Run(long id, byte[] payload)
    {
        CancellationTokenSource cancellation = new();
        lock (_lock)
        {
            _runningId = id;
            _running = cancellation;
            if (_cancelledEarly.Remove(id))
            {
                cancellation.Cancel();
            }
        }

        try
        {
            if (_instance is null)
            {
                throw new InvalidOperationException("The worker has no executor: creating it failed.");
            }

            TIn input = _inputCodec.Decode(payload);
            TOut output = _call is not null
                ? _call(input, cancellation.Token)
                : _callAsync!(input, cancellation.Token).AsTask().GetAwaiter().GetResult();
            Frame.Begin(_frame);
            _outputCodec.Encode(output, _frame);
            ReadOnlyMemory<byte> frame = Frame.End(_frame, FrameKind.Result, id);
            WriteResult(frame.Span);
        }
#pragma warning disable CA1031 // Every exception of the executor or the codecs goes back to the parent.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            byte[]? replacement = null;
            Exception reported = ex;
            if (ex is RetryException { HasReplacementInput: true } retry)
            {
                if (retry.ReplacementInput is TIn next)
                {
                    var buffer = new ArrayBufferWriter<byte>();
                    _inputCodec.Encode(next, buffer);
                    replacement = buffer.WrittenSpan.ToArray();
                }
                else
                {
                    reported = new InvalidCastException(
                        $"The executor asked for a retry with a replacement input of type {retry.ReplacementInput?.GetType().FullName ?? "null"}, but the inputs are {typeof(TIn).FullName}.",
                        retry);
                }
            }

            SendError(FrameKind.Error, id, RemoteError.From(reported, cancellation.IsCancellationRequested, replacement));
        }
        finally
        {
            lock (_lock)
            {
                _running = null;
                _runningId = 0;
            }

            cancellation.Dispose();
        }
    }

    private void WriteResult(ReadOnlySpan<byte> frame)
    {
        if (_fault is not null && !File.Exists(_faultFile))
        {
            File.WriteAllText(_faultFile!, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            switch (_fault)
            {
                case "tear-result-once":
                    Output.Write(frame[..(frame.Length / 2)]);
                    Output.Flush();
                    Posix.ExitNow(3);
                    break;
                case "exit-after-result-once":
                    Output.Write(frame);
                    Output.Flush();
                    Posix.ExitNow(3);
                    break;
            }
        }

        Output.Write(frame);
    }

    private void SendError(FrameKind kind, long id, RemoteError error)
    {
        Frame.Begin(_frame);
        error.Write(_frame);
        Output.Write(Frame.End(_frame, kind, id).Span);
    }

    private void Send(FrameKind kind, long id, ReadOnlySpan<byte> payload) => Output.Write(Frame.Build(_frame, kind, id, payload).Span);

    private void Release()
    {
        object? instance = _instance;
        _instance = null;
        _call = null;
        _callAsync = null;
        try
        {
            if (instance is IAsyncDisposable asyncDisposable)
            {
                asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            else
            {
                (instance as IDisposable)?.Dispose();
            }
        }
#pragma warning disable CA1031 // A throwing Dispose must not take the worker down.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
