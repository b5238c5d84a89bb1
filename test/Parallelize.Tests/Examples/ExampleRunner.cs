using System.Diagnostics;

namespace Parallelize.Tests.Examples;

/// <summary>Runs a built example as a child process, the way a user would, and captures what it prints.</summary>
internal static class ExampleRunner
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string example, params string[] arguments)
    {
        ProcessStartInfo start = StartInfo(example, arguments);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {example}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{example} did not finish in two minutes. Output so far: {await output}");
        }

        return (process.ExitCode, await output + await error);
    }

    /// <summary>Starts an example, waits until it prints <paramref name="ready"/>, sends it a signal with <c>kill</c>, and waits for it to exit.</summary>
    public static async Task<(int ExitCode, string Output)> RunAndSignalAsync(string example, string ready, string signal, params string[] arguments)
    {
        ProcessStartInfo start = StartInfo(example, arguments);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {example}.");
        var output = new System.Text.StringBuilder();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data.Contains(ready, StringComparison.Ordinal))
            {
                seen.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await seen.Task.WaitAsync(TimeSpan.FromMinutes(1));
            using Process kill = Process.Start("kill", ["-s", signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                ?? throw new InvalidOperationException("Could not run kill.");
            await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static ProcessStartInfo StartInfo(string example, string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ExamplePath(example));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static string ExamplePath(string example)
    {
        // The test assembly lives in test/Parallelize.Tests/bin/<Configuration>/<TargetFramework>/; the example is
        // built to examples/<Name>/bin/<Configuration>/<TargetFramework>/ by the project reference.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testBin.Name;
        string configuration = testBin.Parent!.Name;
        DirectoryInfo? root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Parallelize.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Could not find the repository root (Parallelize.sln) above the test assembly.");
        }

        string path = Path.Combine(root.FullName, "examples", example, "bin", configuration, framework, example + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The {example} example is not built.", path);
    }
}
