using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Parallelize.Isolation;

/// <summary>A reply of a worker process to a frame sent to it, or the news that the process was lost first.</summary>
/// <param name="Kind">The reply's kind (<see cref="FrameKind.Result"/>, <see cref="FrameKind.Error"/>, …); meaningless when <paramref name="Exit"/> is set.</param>
/// <param name="Payload">The reply's payload.</param>
/// <param name="Exit">Set when the process was lost before it replied.</param>
internal readonly record struct WorkerReply(FrameKind Kind, byte[] Payload, WorkerExit? Exit)
{
    public bool IsLost => Exit is not null;
}

/// <summary>
/// Owns one worker process: starts it, sends it frames (create, call, cancel, shutdown) and hands back each reply by
/// call id; reports in <see cref="Lost"/> when the process is gone, with its exit code and the tail of its standard
/// error; kills it gracefully (<see cref="ShutdownAsync"/>) or hard (<see cref="Kill"/>). Any number of calls may be
/// outstanding: replies are matched by id, in any order.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> A dedicated reader thread reads the worker's protocol stream (its original standard output)
/// and completes outstanding calls; a second one reads its standard error into a bounded tail. Blocking reads on
/// dedicated threads, because .NET reads anonymous pipes synchronously even when asked to read asynchronously, so
/// asynchronous reads would hold a thread-pool thread per worker. Callers send from any thread.</para>
/// <para><b>Locks.</b> <c>_lock</c> guards <c>_pending</c>, <c>_exit</c> and <c>_killReason</c>; <c>_writeLock</c>
/// serializes writes to the worker's input; <c>_tailLock</c> guards the standard error tail. None is taken inside
/// another, and nothing is completed under any of them.</para>
/// <para><b>Continuations.</b> A call's reply completes its task on the reader thread, and its continuation — the
/// isolated executor returning to the pool, whose worker loop then sends the next call — runs there too
/// (<see cref="TaskCreationOptions.None"/>, the one deliberate exception to running continuations asynchronously).
/// That saves a thread hop per call; on a machine whose cores are busy each hop waits for the scheduler. It is safe
/// because nothing on that path blocks on this worker: the pool's loop awaits (it never waits synchronously), and a
/// continuation that awaits this process's loss returns to the reader first. <see cref="Lost"/> and the hello run
/// their continuations asynchronously.</para>
/// <para><b>Loss.</b> The protocol stream ends only when the worker process is gone (the worker moves it to a
/// descriptor its own children do not inherit), so its end is the signal: the reader waits for the exit code,
/// completes every outstanding call as lost, completes <see cref="Lost"/>, and kills what is left of the worker's
/// process group (its children).</para>
/// </remarks>
internal sealed class WorkerProcess : IAsyncDisposable
{
    /// <summary>How long the standard error may take to end after the process exited (a child may keep it open).</summary>
    private static readonly TimeSpan StandardErrorDrain = TimeSpan.FromMilliseconds(200);

    /// <summary>How long after its protocol stream ended a process may take to exit before it is killed.</summary>
    private static readonly TimeSpan ExitAfterEndOfStream = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly Stream _error;
    private readonly IsolationOptions _options;
    private readonly Lock _lock = new();
    private readonly Lock _writeLock = new();
    private readonly Lock _tailLock = new();
    private readonly Dictionary<long, Pending> _pending = [];
    private readonly TaskCompletionSource _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<WorkerExit> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ArrayBufferWriter<byte> _controlFrame = new(64);
    private readonly byte[] _tail;
    private int _tailLength;
    private int _tailStart;
    private WorkerExit? _exit;
    private WorkerExitReason? _killReason;
    private long _nextId;
    private int _disposed;

    private readonly Action<WorkerProcess, WorkerExit>? _onLost;

    private WorkerProcess(Process process, IsolationOptions options, Action<WorkerProcess, WorkerExit>? onLost)
    {
        _onLost = onLost;
        _process = process;
        _options = options;
        _input = process.StandardInput.BaseStream;
        _output = process.StandardOutput.BaseStream;
        _error = process.StandardError.BaseStream;
        _tail = new byte[options.StandardErrorTailSize];
        ProcessId = process.Id;
    }

    /// <summary>Gets the worker's process id.</summary>
    public int ProcessId { get; }

    /// <summary>Gets a task that completes when the process is gone, with how it ended. It never faults.</summary>
    public Task<WorkerExit> Lost => _lost.Task;

    /// <summary>Gets a value indicating whether the process is known to be gone (or going: it was killed).</summary>
    public bool IsLost
    {
        get
        {
            lock (_lock)
            {
                return _exit is not null || _killReason is not null;
            }
        }
    }

    /// <summary>Gets the number of calls this process has run (replied to).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    private long _calls;

    /// <summary>Starts a worker process and waits until it has said hello.</summary>
    /// <exception cref="WorkerCrashedException">The process could not be started, died, or did not say hello within <see cref="IsolationOptions.StartTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the process was killed.</exception>
    /// <param name="launch">How to start the worker.</param>
    /// <param name="options">The options.</param>
    /// <param name="cancellationToken">Cancels the start; the process is then killed.</param>
    /// <param name="onLost">Called once when the process is lost, before any outstanding call learns of it (for counting; it must not block).</param>
    public static async Task<WorkerProcess> StartAsync(WorkerLaunch launch, IsolationOptions options, CancellationToken cancellationToken, Action<WorkerProcess, WorkerExit>? onLost = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var process = new Process { StartInfo = launch.CreateStartInfo(options) };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new WorkerCrashedException(new WorkerExit(0, null, WorkerExitReason.StartFailed, ex.Message), $"({launch.FileName})", ex);
        }

        var worker = new WorkerProcess(process, options, onLost);
        worker.StartThreads();
        Task hello = worker._hello.Task;
        Task<WorkerExit> lost = worker._lost.Task;
        try
        {
            Task first = await Task.WhenAny(hello, lost).WaitAsync(options.StartTimeout, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            if (first == hello)
            {
                return worker;
            }
        }
        catch (TimeoutException)
        {
            worker.Kill(WorkerExitReason.StartTimeout);
        }
        catch (OperationCanceledException)
        {
            worker.Kill(WorkerExitReason.Shutdown);
            await worker.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        WorkerExit exit = await lost.ConfigureAwait(false);
        await worker.DisposeAsync().ConfigureAwait(false);
        throw new WorkerCrashedException(exit, "while starting");
    }

    /// <summary>Takes a fresh call id (ids are unique for this process).</summary>
    public long NextCallId() => Interlocked.Increment(ref _nextId);

    /// <summary>Sends a frame built by the caller (see <see cref="Frame.Begin"/>) and returns its reply.</summary>
    /// <param name="id">The id written in the frame; the reply carries it back.</param>
    /// <param name="frame">The whole frame.</param>
    /// <param name="timeout">How long the process may take to reply before it is killed; <see langword="null"/> for no limit.</param>
    /// <param name="timeoutReason">What the kill at <paramref name="timeout"/> is reported as.</param>
    /// <param name="cancellationToken">Cancelling sends the worker a cancel for this id; a worker that does not reply within <see cref="IsolationOptions.GracePeriod"/> is killed.</param>
    /// <returns>The reply, or a lost reply (never a faulted task).</returns>
    public Task<WorkerReply> SendAsync(long id, ReadOnlySpan<byte> frame, TimeSpan? timeout, WorkerExitReason timeoutReason, CancellationToken cancellationToken)
    {
        // Timers and the registration are in place before the call is pending: a reply settles (and releases) them.
        var pending = new Pending(id);
        if (timeout is { } limit)
        {
            pending.Timer = _options.TimeProvider.CreateTimer(
                static state =>
                {
                    var (worker, pending, reason) = ((WorkerProcess, Pending, WorkerExitReason))state!;
                    if (worker.IsPending(pending.Id))
                    {
                        worker.Kill(reason);
                    }
                },
                (this, pending, timeoutReason),
                limit,
                Timeout.InfiniteTimeSpan);
        }

        if (cancellationToken.CanBeCanceled)
        {
            pending.Cancellation = cancellationToken.UnsafeRegister(
                static state =>
                {
                    var (worker, pending) = ((WorkerProcess, Pending))state!;
                    worker.CancelCall(pending);
                },
                (this, pending));
        }

        WorkerExit? lost;
        lock (_lock)
        {
            lost = _exit;
            if (lost is null)
            {
                _pending.Add(id, pending);
            }
        }

        if (lost is not null)
        {
            pending.Settle(new WorkerReply(default, [], lost));
            return pending.Reply.Task;
        }

        // A write that fails means the process is gone: the reader completes the call as lost.
        Write(frame);
        return pending.Reply.Task;
    }

    /// <summary>Asks the worker to dispose its executor and exit; kills it after <see cref="IsolationOptions.GracePeriod"/>.</summary>
    public async Task<WorkerExit> ShutdownAsync()
    {
        lock (_lock)
        {
            _killReason ??= _exit is null ? WorkerExitReason.Shutdown : null;
        }

        lock (_writeLock)
        {
            Write(Frame.Build(_controlFrame, FrameKind.Shutdown, 0, []).Span, alreadyLocked: true);
        }

        try
        {
            return await Lost.WaitAsync(_options.GracePeriod, _options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill(WorkerExitReason.Shutdown);
            return await Lost.ConfigureAwait(false);
        }
    }

    /// <summary>Kills the process and its process group at once (SIGKILL). Outstanding calls complete as lost, reported with <paramref name="reason"/>.</summary>
    public void Kill(WorkerExitReason reason)
    {
        lock (_lock)
        {
            if (_exit is not null)
            {
                return;
            }

            // A shutdown that has to kill is still a shutdown; otherwise the first reason stays.
            if (_killReason is null or WorkerExitReason.Shutdown)
            {
                _killReason = reason;
            }
        }

        KillGroup();
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    /// <summary>Reads the process's resident memory in bytes; <see langword="null"/> if it cannot be read.</summary>
    public long? ReadResidentBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                string statm = File.ReadAllText($"/proc/{ProcessId.ToString(CultureInfo.InvariantCulture)}/statm");
                string[] fields = statm.Split(' ');
                return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return null;
            }
        }

        try
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Shuts the process down if it is still running (asks, then kills after the grace period) and releases it. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await Lost.ConfigureAwait(false);
            return;
        }

        if (!Lost.IsCompleted)
        {
            await ShutdownAsync().ConfigureAwait(false);
        }

        _process.Dispose();
    }

    /// <summary>Gets the tail of the standard error as text.</summary>
    internal string ReadTail()
    {
        lock (_tailLock)
        {
            byte[] ordered = new byte[_tailLength];
            int first = Math.Min(_tailLength, _tail.Length - _tailStart);
            Array.Copy(_tail, _tailStart, ordered, 0, first);
            Array.Copy(_tail, 0, ordered, first, _tailLength - first);
            return Encoding.UTF8.GetString(ordered);
        }
    }

    private void StartThreads()
    {
        var reader = new Thread(ReadProtocol, 256 * 1024) { IsBackground = true, Name = "Parallelize worker " + ProcessId.ToString(CultureInfo.InvariantCulture) };
        var error = new Thread(ReadStandardError, 64 * 1024) { IsBackground = true, Name = "Parallelize worker stderr " + ProcessId.ToString(CultureInfo.InvariantCulture) };
        reader.Start();
        error.Start();
    }

    private bool IsPending(long id)
    {
        lock (_lock)
        {
            return _pending.ContainsKey(id);
        }
    }

    private void CancelCall(Pending pending)
    {
        if (!IsPending(pending.Id))
        {
            return;
        }

        var frame = new ArrayBufferWriter<byte>(Frame.HeaderSize);
        Write(Frame.Build(frame, FrameKind.Cancel, pending.Id, []).Span);
        ITimer grace = _options.TimeProvider.CreateTimer(
            static state =>
            {
                var (worker, pending) = ((WorkerProcess, Pending))state!;
                if (worker.IsPending(pending.Id))
                {
                    worker.Kill(WorkerExitReason.Shutdown);
                }
            },
            (this, pending),
            _options.GracePeriod,
            Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref pending.GraceTimer, grace, null) is not null || !IsPending(pending.Id))
        {
            grace.Dispose();
        }
    }

    private void Write(ReadOnlySpan<byte> frame, bool alreadyLocked = false)
    {
        try
        {
            if (alreadyLocked)
            {
                _input.Write(frame);
                _input.Flush();
                return;
            }

            lock (_writeLock)
            {
                _input.Write(frame);
                _input.Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The process is gone (EPIPE) or being released: the reader reports the loss.
        }
    }

    /// <summary>The reader thread: the hello, then every reply, until the stream ends.</summary>
    private void ReadProtocol()
    {
        WorkerExitReason? protocolError = null;
        try
        {
            var skipped = new StringBuilder();
            if (!Frame.SkipToMagic(_output, 1 << 20, skipped))
            {
                if (skipped.Length > 0)
                {
                    protocolError = WorkerExitReason.ProtocolError;
                }
            }
            else
            {
                Span<byte> header = stackalloc byte[Frame.HeaderSize];
                if (Frame.Read(_output, header, out FrameKind kind, out _, out _) && kind == FrameKind.Hello)
                {
                    _hello.TrySetResult();
                    while (Frame.Read(_output, header, out kind, out long id, out byte[] payload))
                    {
                        Complete(id, new WorkerReply(kind, payload, null));
                    }
                }
                else
                {
                    protocolError = WorkerExitReason.ProtocolError;
                }
            }
        }
        catch (InvalidDataException)
        {
            protocolError = WorkerExitReason.ProtocolError;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The stream ended inside a frame (a worker that died while writing), or was closed by DisposeAsync.
        }

        if (protocolError is { } reason)
        {
            Kill(reason);
        }

        Finish();
    }

    private void Complete(long id, WorkerReply reply)
    {
        Pending? pending;
        lock (_lock)
        {
            if (!_pending.Remove(id, out pending))
            {
                return; // a reply nobody waits for any more
            }
        }

        Interlocked.Increment(ref _calls);
        pending.Settle(reply);
    }

    /// <summary>After the protocol stream ended: waits for the exit, fails what is outstanding, reports the loss.</summary>
    private void Finish()
    {
        try
        {
            if (!_process.WaitForExit(ExitAfterEndOfStream))
            {
                Kill(WorkerExitReason.ProtocolError);
                _process.WaitForExit();
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or SystemException)
        {
            // Released by DisposeAsync: no exit code to read.
        }

        // The children of the worker (its process group) die with it: no orphans.
        KillGroup();
        _errorEnded.Task.Wait(StandardErrorDrain);
        int? code = null;
        try
        {
            code = _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
        }

        List<Pending> outstanding;
        WorkerExit exit;
        lock (_lock)
        {
            exit = new WorkerExit(ProcessId, code, _killReason ?? WorkerExitReason.Crashed, ReadTail());
            _exit = exit;
            outstanding = [.. _pending.Values];
            _pending.Clear();
        }

        _onLost?.Invoke(this, exit);
        var lost = new WorkerReply(default, [], exit);
        foreach (Pending pending in outstanding)
        {
            pending.Settle(lost);
        }

        _hello.TrySetCanceled();
        _lost.TrySetResult(exit);
    }

    private void KillGroup()
    {
        // The worker made itself a process group leader, so its group id is its pid; this reaches its children too.
        Posix.Kill(-ProcessId, Posix.SigKill);
    }

    private void ReadStandardError()
    {
        byte[] buffer = new byte[4096];
        Stream? forward = _options.ForwardStandardError ? Console.OpenStandardError() : null;
        try
        {
            int read;
            while ((read = _error.Read(buffer)) > 0)
            {
                forward?.Write(buffer, 0, read);
                AppendTail(buffer.AsSpan(0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
        finally
        {
            _errorEnded.TrySetResult();
        }
    }

    private void AppendTail(ReadOnlySpan<byte> data)
    {
        lock (_tailLock)
        {
            if (_tail.Length == 0)
            {
                return;
            }

            if (data.Length >= _tail.Length)
            {
                data[^_tail.Length..].CopyTo(_tail);
                _tailStart = 0;
                _tailLength = _tail.Length;
                return;
            }

            foreach (byte b in data)
            {
                int end = (_tailStart + _tailLength) % _tail.Length;
                _tail[end] = b;
                if (_tailLength < _tail.Length)
                {
                    _tailLength++;
                }
                else
                {
                    _tailStart = (_tailStart + 1) % _tail.Length;
                }
            }
        }
    }

    /// <summary>One outstanding frame: its reply, and the timers and registration to release once it has one.</summary>
    private sealed class Pending(long id)
    {
        public long Id { get; } = id;

        public TaskCompletionSource<WorkerReply> Reply { get; } = new(TaskCreationOptions.None);

        public ITimer? Timer { get; set; }

        public ITimer? GraceTimer;

        public CancellationTokenRegistration Cancellation { get; set; }

        public void Settle(WorkerReply reply)
        {
            Timer?.Dispose();
            Interlocked.Exchange(ref GraceTimer, NoTimer.Instance)?.Dispose();
            Cancellation.Unregister();
            Reply.TrySetResult(reply);
        }
    }

    /// <summary>Marks a settled call's grace timer slot, so that a cancel racing the reply disposes its own timer.</summary>
    private sealed class NoTimer : ITimer
    {
        public static readonly NoTimer Instance = new();

        public bool Change(TimeSpan dueTime, TimeSpan period) => false;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
