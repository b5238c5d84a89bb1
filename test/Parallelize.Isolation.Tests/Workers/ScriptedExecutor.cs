using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Parallelize.Isolation.Tests.Workers;

/// <summary>An executor that does to its worker process what each <see cref="Job"/> says: crash it, hang it, soil its standard output.</summary>
public sealed class ScriptedExecutor : IExecutor<Job, Reply>, IDisposable
{
    /// <summary>Set in the workers' environment to a directory: Dispose writes a file there.</summary>
    public const string DisposedDirectory = "PARALLELIZE_TEST_DISPOSED_DIR";

    public Reply Execute(Job input, CancellationToken cancellationToken)
    {
        if (!ShouldAct(input.Once))
        {
            return new Reply(input.Id, Environment.ProcessId);
        }

        switch (input.Action)
        {
            case "echo":
                break;
            case "throw":
                throw new FormatException($"bad input {input.Id}");
            case "failfast":
                Environment.FailFast($"isolated test: fail fast on input {input.Id}");
                break;
            case "stackoverflow":
                Recurse(0);
                break;
            case "bgthrow":
                var thread = new Thread(() => throw new InvalidOperationException($"background boom on input {input.Id}"));
                thread.Start();
                thread.Join();
                break;
            case "block":
                MarkReady(input.Ready);
                Thread.Sleep(Timeout.Infinite);
                break;
            case "block-cooperative":
                MarkReady(input.Ready);
                cancellationToken.WaitHandle.WaitOne();
                cancellationToken.ThrowIfCancellationRequested();
                break;
            case "spin":
                MarkReady(input.Ready);
                Spin();
                break;
            case "sigstop":
                MarkReady(input.Ready);
                Native.Kill(Environment.ProcessId, 19);
                break;
            case "grandchild":
                using (Process child = Process.Start("sleep", "1000"))
                {
                    MarkReady(input.Ready, $"{Environment.ProcessId} {child.Id}");
                }

                Thread.Sleep(Timeout.Infinite);
                break;
            case "stdout":
                Console.Write("garbage from user code\0PZWORKER1\n\u0005\0\0\0\u0084");
                Console.Out.Flush();
                Console.WriteLine(new string('x', 10_000));
                break;
            case "native-stdout":
                Native.WriteStandardOutput("garbage from native code \0PZWORKER1\n\u0005\0\0\0\u0084\n"u8.ToArray());
                break;
            case "cycle":
                var node = new Node();
                node.Next = node;
                return new Reply(input.Id, Environment.ProcessId) { Loop = node };
            case "retry-replace":
                throw RetryException.WithInput(input with { Id = input.Id + 1000, Action = "echo" }, "replace me");
            default:
                throw new ArgumentException($"Unknown action {input.Action}.", nameof(input));
        }

        return new Reply(input.Id, Environment.ProcessId);
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable(DisposedDirectory) is { Length: > 0 } directory)
        {
            File.WriteAllText(Path.Combine(directory, "disposed-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)), "");
        }
    }

    /// <summary>The factory for <see cref="Setup"/>: does what it says (once), then creates the executor.</summary>
    public static IExecutor<Job, Reply> FromSetup(Setup setup)
    {
        if (ShouldAct(setup.Once))
        {
            switch (setup.Action)
            {
                case "throw":
                    throw new InvalidOperationException("the factory refuses");
                case "failfast":
                    Environment.FailFast("isolated test: the factory fails fast");
                    break;
                case "hang":
                    MarkReady(setup.Ready);
                    Thread.Sleep(Timeout.Infinite);
                    break;
            }
        }

        return new ScriptedExecutor();
    }

    internal static void MarkReady(string? path, string? text = null)
    {
        if (path is null)
        {
            return;
        }

        File.WriteAllText(path + ".tmp", text ?? Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        File.Move(path + ".tmp", path);
    }

    private static bool ShouldAct(string? once)
    {
        if (once is null)
        {
            return true;
        }

        try
        {
            using (File.Open(once, FileMode.CreateNew))
            {
            }

            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Recurse(int depth) => Recurse(depth + 1) + 1;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
    private static void Spin()
    {
        long n = 0;
        while (n >= 0)
        {
            n++;
        }
    }
}

/// <summary>The same as <see cref="ScriptedExecutor"/>, as an asynchronous executor.</summary>
public sealed class AsyncEchoExecutor : IAsyncExecutor<int, int>
{
    public async ValueTask<int> ExecuteAsync(int input, CancellationToken cancellationToken)
    {
        await Task.Yield();
        return input * 2;
    }
}

/// <summary>libc calls the tests need: a raw write to descriptor 1, and signals.</summary>
internal static partial class Native
{
    [DllImport("libc.so.6", EntryPoint = "write", SetLastError = true)]
    private static extern nint Write(int fd, byte[] buffer, nint count);

    [DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int KillNative(int pid, int signal);

    public static void WriteStandardOutput(byte[] bytes) => Write(1, bytes, bytes.Length);

    public static bool Kill(int pid, int signal) => KillNative(pid, signal) == 0;
}
