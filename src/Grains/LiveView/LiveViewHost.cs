using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

namespace AlignCluster.Grains.LiveView;

/// <summary>Where the live view listens: loopback unless an address is given (it has no authentication).</summary>
/// <param name="Port">TCP port; 0 takes a free one (the URL says which).</param>
public sealed record LiveViewOptions(int Port = LiveViewOptions.DefaultPort, string Address = "127.0.0.1")
{
    public const int DefaultPort = 8080;
}

/// <summary>
/// The silo's live view (opt-in): Orleans Dashboard (Microsoft.Orleans.Dashboard) at /dashboard/, and our run page at
/// /run, which reads /run/data (JSON: <see cref="LiveSnapshot"/>) every two seconds and draws the runs' curves, where
/// each run grain lives and every silo's devices. One web server in the silo's process, so a silo host without the
/// view stays a plain generic host with no HTTP listener at all.
/// </summary>
/// <remarks>Use: <c>var builder = LiveViewHost.CreateBuilder(view, args)</c>, <c>builder.UseOrleans(silo =&gt; …
/// silo.AddLiveView(view))</c>, <c>using var host = builder.BuildWithLiveView()</c>.</remarks>
public static class LiveViewHost
{
    public const string DashboardPath = "/dashboard";
    public const string RunPagePath = "/run";
    public const string DataPath = "/run/data";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // a NaN loss still renders
    };

    /// <summary>
    /// The host builder of a silo: a web application builder listening on <paramref name="view"/>'s address when the
    /// view is on, else a plain host builder. <paramref name="quiet"/>: no default configuration sources and no logging
    /// (the embedded cluster inside the CLI), as <see cref="HostApplicationBuilderSettings.DisableDefaults"/>.
    /// </summary>
    public static IHostApplicationBuilder CreateBuilder(
        LiveViewOptions? view,
        string[]? args = null,
        bool quiet = false
    )
    {
        if (view is null)
            return quiet
                ? Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true })
                : Host.CreateApplicationBuilder(args ?? []);
        if (!IPAddress.TryParse(view.Address, out var address))
            throw new ArgumentException($"live view address '{view.Address}' is not an IP address");
        var web = quiet
            ? WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [] })
            : WebApplication.CreateBuilder(args ?? []);
        if (quiet)
            web.Logging.ClearProviders();
        web.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, view.Port));
        return web;
    }

    /// <summary>Adds the Orleans Dashboard's silo side (its grain service, call profiler and counters) when the view
    /// is on; the run page needs nothing more than <see cref="Hosting.ClusterSetup.AddAlignCluster"/>.</summary>
    public static ISiloBuilder AddLiveView(this ISiloBuilder silo, LiveViewOptions? view)
    {
        if (view is not null)
            silo.AddDashboard();
        return silo;
    }

    /// <summary>Builds the host; with the view on, maps the dashboard, the run page and its data endpoint.</summary>
    public static IHost BuildWithLiveView(this IHostApplicationBuilder builder)
    {
        switch (builder)
        {
            case HostApplicationBuilder plain:
                return plain.Build();
            case WebApplicationBuilder web:
                web.Services.AddSingleton<LiveSnapshotReader>();
                var app = web.Build();
                app.MapOrleansDashboard(DashboardPath);
                app.MapGet("/", () => Results.Redirect(RunPagePath));
                app.MapGet(RunPagePath, () => Results.Text(RunPageHtml.Value, "text/html; charset=utf-8"));
                app.MapGet(DataPath, async (HttpContext http, LiveSnapshotReader reader) =>
                {
                    // ?run=a,b shows those runs too (finished runs whose coordinator was idle-collected).
                    string[] runs = http
                        .Request.Query["run"]
                        .ToString()
                        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    return Results.Json(await reader.ReadAsync(runs), Json);
                });
                return app;
            default:
                throw new ArgumentException($"not a host builder this method knows: {builder.GetType().Name}");
        }
    }

    /// <summary>The live view's base URL once the host has started (the port is known then when 0 was asked for);
    /// null for a host without the view.</summary>
    public static Uri? UrlOf(IHost host)
    {
        var addresses = host.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        return addresses?.FirstOrDefault() is { } first ? new Uri(first) : null;
    }

    private static readonly Lazy<string> RunPageHtml = new(() =>
    {
        using var stream = typeof(LiveViewHost).Assembly.GetManifestResourceStream("AlignCluster.LiveView.run.html")
            ?? throw new InvalidOperationException("the run page (run.html) is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
