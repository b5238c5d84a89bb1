using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace Parallelize.Tests.Examples;

/// <summary>
/// Packs the library the way a release does and runs <c>examples/PackageConsumer</c> against that package, as an
/// application outside the repository would use it.
/// </summary>
/// <remarks>
/// The package gets a version of its own (the repository's VersionPrefix with a unique suffix), so a package of the
/// same version cached by an earlier run can never stand in for it; the pack and the consumer build into a temporary
/// folder, so the repository's own bin and obj folders are left alone.
/// </remarks>
public sealed class PackageConsumerTests
{
    /// <summary>Source Link's custom debug information in a portable PDB.</summary>
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>The repository URL the pack is given, as a clone without a git remote must be, for Source Link.</summary>
    private const string RepositoryUrl = "https://github.com/example/parallelize";

    [Fact(Timeout = 300_000)]
    public async Task PackageConsumer_FreshlyPackedPackage_RestoresRunsAndAccountsForEveryCall()
    {
        string root = RepositoryRoot();
        DirectoryInfo work = Directory.CreateTempSubdirectory("parallelize-package-");
        string feed = Path.Combine(work.FullName, "feed");
        string consumer = Path.Combine(work.FullName, "consumer");
        string suffix = "smoke-" + Guid.NewGuid().ToString("N");
        string? version = null;
        try
        {
            await DotnetAsync(
                root, "pack", "src/Parallelize/Parallelize.csproj", "-c", "Release", "--version-suffix", suffix, "-o", feed,
                "--artifacts-path", Path.Combine(work.FullName, "pack"), $"-p:RepositoryUrl={RepositoryUrl}");
            string package = Directory.GetFiles(feed, "Parallelize.*.nupkg").Single();
            version = CheckPackage(package, suffix);
            CheckSymbols(Path.ChangeExtension(package, ".snupkg"), checkSourceLink: IsGitRepository(root));

            string output = await DotnetAsync(
                root, "run", "--project", "examples/PackageConsumer/PackageConsumer.csproj", "-c", "Release",
                "--artifacts-path", consumer, $"-p:VersionSuffix={suffix}", $"-p:ParallelizePackageSource={feed}", "--", "200");

            Assert.Contains($"Parallelize {version}", output, StringComparison.Ordinal);
            Assert.Contains("results 199 + failures 1 + aborted 0 = calls 200", output, StringComparison.Ordinal);
            long squares = Enumerable.Range(1, 200).Where(i => i != 13).Sum(i => (long)i * i);
            Assert.Contains($"sum of squares: {squares.ToString(CultureInfo.InvariantCulture)}", output, StringComparison.Ordinal);
            Assert.Contains("failed: 13 after 2 attempts (InvalidOperationException)", output, StringComparison.Ordinal);
        }
        finally
        {
            // The uniquely versioned package that the restore put in the user's package cache is of no use to anyone.
            string? cached = version is null ? null : CachedPackageFolder(consumer, version);
            if (cached is not null && Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }

            work.Delete(recursive: true);
        }
    }

    /// <summary>Checks the package's files and metadata.</summary>
    /// <returns>The package version.</returns>
    private static string CheckPackage(string path, string suffix)
    {
        using ZipArchive package = ZipFile.OpenRead(path);
        string[] files = [.. package.Entries.Select(entry => entry.FullName)];
        string context = string.Join(", ", files);
        Assert.True(files.Any(f => f.StartsWith("lib/", StringComparison.Ordinal) && f.EndsWith("/Parallelize.dll", StringComparison.Ordinal)), context);
        Assert.True(files.Any(f => f.StartsWith("lib/", StringComparison.Ordinal) && f.EndsWith("/Parallelize.xml", StringComparison.Ordinal)), context);
        Assert.Contains("README.md", files);
        Assert.DoesNotContain(files, f => f.EndsWith(".pdb", StringComparison.Ordinal));

        XElement metadata = ReadNuspec(package).Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        Assert.Equal("Parallelize", Field("id"));
        Assert.EndsWith("-" + suffix, Field("version"), StringComparison.Ordinal);
        Assert.Equal("README.md", Field("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Field("authors")));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")));
        Assert.Contains("concurrency", Field("tags"), StringComparison.Ordinal);
        XElement repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal(RepositoryUrl, repository.Attribute("url")?.Value);

        using StreamReader readme = new(package.GetEntry("README.md")!.Open());
        Assert.StartsWith("# Parallelize", readme.ReadToEnd(), StringComparison.Ordinal);
        return Field("version");
    }

    /// <summary>Checks that the symbol package holds the PDB and that the PDB maps the sources to the repository.</summary>
    private static void CheckSymbols(string path, bool checkSourceLink)
    {
        using ZipArchive symbols = ZipFile.OpenRead(path);
        ZipArchiveEntry? pdb = symbols.Entries.SingleOrDefault(entry => entry.FullName.EndsWith("/Parallelize.pdb", StringComparison.Ordinal));
        Assert.True(pdb is not null, string.Join(", ", symbols.Entries.Select(entry => entry.FullName)));

        // Source Link needs the commit, which only a git checkout has (a copy of the sources does not).
        if (!checkSourceLink)
        {
            return;
        }

        using var stream = new MemoryStream();
        using (Stream entry = pdb.Open())
        {
            entry.CopyTo(stream);
        }

        stream.Position = 0;
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(stream);
        MetadataReader reader = provider.GetMetadataReader();
        string? sourceLink = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Where(information => reader.GetGuid(information.Kind) == SourceLinkKind)
            .Select(information => Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value)))
            .SingleOrDefault();
        Assert.NotNull(sourceLink);
        Assert.Contains("https://raw.githubusercontent.com/example/parallelize/", sourceLink, StringComparison.Ordinal);
    }

    private static XElement ReadNuspec(ZipArchive package)
    {
        ZipArchiveEntry nuspec = package.Entries.Single(entry => entry.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream stream = nuspec.Open();
        return XElement.Load(stream);
    }

    /// <summary>Where the consumer's restore put the package in the user's package cache (from its assets file).</summary>
    private static string? CachedPackageFolder(string consumerArtifacts, string version)
    {
        if (!Directory.Exists(consumerArtifacts))
        {
            return null;
        }

        string? assets = Directory.GetFiles(consumerArtifacts, "project.assets.json", SearchOption.AllDirectories).FirstOrDefault();
        if (assets is null)
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(assets));
        string? packages = document.RootElement.GetProperty("packageFolders").EnumerateObject().Select(folder => folder.Name).FirstOrDefault();
        return packages is null ? null : Path.Combine(packages, "parallelize", version.ToLowerInvariant());
    }

    private static bool IsGitRepository(string root) =>
        Directory.Exists(Path.Combine(root, ".git")) || File.Exists(Path.Combine(root, ".git"));

    private static string RepositoryRoot()
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Parallelize.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException("Could not find the repository root (Parallelize.sln) above the test assembly.");
    }

    /// <summary>Runs the .NET CLI to completion and fails the test if it fails.</summary>
    /// <returns>What it printed.</returns>
    private static async Task<string> DotnetAsync(string workingDirectory, string verb, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No compiler server or MSBuild node may outlive the command: it would inherit the output pipes and keep
        // them open after the command has exited.
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add("--disable-build-servers");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        string command = $"dotnet {verb} {string.Join(' ', arguments)}";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            string text = await output.WaitAsync(timeout.Token) + await error.WaitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"{command} exited with {process.ExitCode}:\n{text}");
            return text;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish in two minutes.");
        }
    }
}
